"""When a flow runs next: real-time, every N minutes, hourly, daily at a time, weekly on a day.

Times are UTC. Real-time flows are driven by events (webhooks) and, for API polling, run
every minute.

>>> from datetime import datetime, UTC
>>> next_run_after(Schedule("daily", at_time="06:30"), datetime(2026, 11, 22, 7, 0, tzinfo=UTC))
datetime.datetime(2026, 11, 23, 6, 30, tzinfo=datetime.timezone.utc)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.errors import FieldProblem

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")
REAL_TIME_POLL_MINUTES = 1


@dataclass(frozen=True)
class Schedule:
    frequency: str
    every_minutes: int | None = None
    at_time: str = ""
    weekday: int | None = None


def schedule_problems(schedule: Schedule) -> list[FieldProblem]:
    """What is wrong with a schedule, in words a person can act on."""
    problems = []
    if schedule.frequency == "every_n_minutes":
        if schedule.every_minutes is None or not 1 <= schedule.every_minutes <= 1440:
            problems.append(
                FieldProblem("Every N minutes", "must be a whole number from 1 to 1440.")
            )
    if schedule.frequency in {"daily", "weekly"}:
        match = _TIME.match(schedule.at_time.strip())
        if not match:
            problems.append(
                FieldProblem(
                    "At time", f"'{schedule.at_time}' is not a time; write HH:MM, e.g. 06:30."
                )
            )
        else:
            hour, minute = int(match[1]), int(match[2])
            if hour > 23 or minute > 59:
                problems.append(
                    FieldProblem(
                        "At time",
                        f"'{schedule.at_time}' does not exist; hours go 00–23 and minutes 00–59.",
                    )
                )
    if schedule.frequency == "weekly" and (
        schedule.weekday is None or not 0 <= schedule.weekday <= 6
    ):
        problems.append(FieldProblem("Weekday", "pick a day of the week."))
    return problems


def next_run_after(schedule: Schedule, after: datetime) -> datetime:
    """The first due time strictly after ``after`` (UTC, aware)."""
    base = after.replace(second=0, microsecond=0)
    if schedule.frequency == "real-time":
        return base + timedelta(minutes=REAL_TIME_POLL_MINUTES)
    if schedule.frequency == "every_n_minutes":
        return base + timedelta(minutes=schedule.every_minutes or 60)
    if schedule.frequency == "hourly":
        return base.replace(minute=0) + timedelta(hours=1)
    hour, minute = (int(p) for p in (schedule.at_time or "00:00").split(":"))
    candidate = base.replace(hour=hour, minute=minute)
    if schedule.frequency == "daily":
        return candidate if candidate > after else candidate + timedelta(days=1)
    days_ahead = ((schedule.weekday or 0) - candidate.weekday()) % 7
    candidate += timedelta(days=days_ahead)
    return candidate if candidate > after else candidate + timedelta(days=7)


def describe(schedule: Schedule) -> str:
    """The schedule in words: 'Daily at 06:30 UTC'."""
    if schedule.frequency == "every_n_minutes":
        return f"Every {schedule.every_minutes} minutes"
    if schedule.frequency == "daily":
        return f"Daily at {schedule.at_time} UTC"
    if schedule.frequency == "weekly":
        return f"Weekly on {WEEKDAYS[schedule.weekday or 0]} at {schedule.at_time} UTC"
    return {"real-time": "Real-time", "hourly": "Hourly"}.get(
        schedule.frequency, schedule.frequency
    )
