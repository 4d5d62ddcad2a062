"""The legal deadline of a deletion request, and how a request stands against it.

GDPR (art. 12(3)) gives one calendar month from receipt; a month without that day ends on
its last day. CCPA gives 45 calendar days.

    >>> due_date("gdpr", datetime(2025, 1, 31, tzinfo=UTC)).date()
    datetime.date(2025, 2, 28)
    >>> due_date("ccpa", datetime(2025, 1, 31, tzinfo=UTC)).date()
    datetime.date(2025, 3, 17)
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta


def aware(when: datetime) -> datetime:
    """A stored time as UTC (SQLite gives it back without its zone)."""
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def add_month(when: datetime) -> datetime:
    """The same day next month, or that month's last day when it has no such day."""
    year, month = (when.year + 1, 1) if when.month == 12 else (when.year, when.month + 1)
    return when.replace(
        year=year, month=month, day=min(when.day, calendar.monthrange(year, month)[1])
    )


def due_date(regulation: str, received: datetime) -> datetime:
    """The legal deadline: GDPR one calendar month (art. 12(3)), CCPA 45 days."""
    return add_month(received) if regulation == "gdpr" else received + timedelta(days=45)


def timeliness(due: datetime, completed: datetime | None, now: datetime) -> str:
    """How a request stands against its deadline, in words."""
    due = aware(due)
    if completed is not None:
        late = (aware(completed).date() - due.date()).days
        return "completed on time" if late <= 0 else f"completed {_days(late)} late"
    left = (due.date() - aware(now).date()).days
    if left > 0:
        return f"{_days(left)} left"
    return "due today" if left == 0 else f"overdue by {_days(-left)}"


def _days(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"
