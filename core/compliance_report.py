"""The compliance report: for a chosen period, who changed and who accessed what, privacy
requests and their timeliness, retention runs, consent coverage, the audit chain's
verification, and the lineage of every personal-data field.

It holds no personal data: people appear as user names, privacy requests by their e-mail
hint ("j•••@example.com"), consent as counts of digests, and changes by their summary (the
before/after values of an audit entry, which may hold an overwritten value, stay out).
Making it is written to the audit trail and the access log. ``core.compliance_report_html``
renders it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from core import audit
from core.errors import FieldProblem, InputError
from core.lineage import Lineage, field_lineage
from core.permissions import Action, Actor, require
from core.retention_runs import RunView, view
from core.sync.gate import PURPOSES
from core.workspace import Workspace, transaction
from db.dictionary import DictionaryField
from db.engine import read_session
from db.governance import AccessLogEntry, Consent, PrivacyRequest, RetentionRun
from db.models import AuditEntry, HubRecord, utcnow

PLACE = "Compliance report"


@dataclass(frozen=True)
class Period:
    """Whole UTC days, first and last included."""

    start: date
    end: date

    @property
    def since(self) -> datetime:
        return datetime.combine(self.start, time.min, tzinfo=UTC)

    @property
    def until(self) -> datetime:
        """The first moment after the period."""
        return datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=UTC)

    @property
    def label(self) -> str:
        return f"{self.start:%Y-%m-%d} to {self.end:%Y-%m-%d}"


def check_period(start: date | None, end: date | None, today: date) -> Period:
    """The period, or an InputError naming each date that is missing, in the future or
    out of order."""
    problems = []
    for name, value in (("Start date", start), ("End date", end)):
        if not isinstance(value, date):
            problems.append(FieldProblem(name, "is empty; pick a day."))
        elif value > today:
            problems.append(
                FieldProblem(name, f"is in the future; pick today ({today}) or an earlier day.")
            )
    if start is None or end is None or problems:
        raise InputError(problems)
    if end < start:
        raise InputError.one("End date", f"is before the start date; pick {start} or a later day.")
    return Period(start, end)


@dataclass(frozen=True)
class ActivityRow:
    """One change (audit) or one access to personal data (access log)."""

    source: str
    at: datetime
    who: str
    action: str
    what: str
    domain: str
    detail: str
    records: int | None = None


@dataclass(frozen=True)
class PrivacyRow:
    id: int
    email_hint: str
    regulation: str
    status: str
    received_at: datetime
    due_at: datetime
    completed_at: datetime | None
    standing: str


@dataclass(frozen=True)
class ConsentCoverage:
    # per purpose: (persons who granted, persons who denied)
    per_purpose: dict[str, tuple[int, int]]
    hub_persons: int
    persons_with_consent: int

    @property
    def share(self) -> float | None:
        return self.persons_with_consent / self.hub_persons if self.hub_persons else None


@dataclass(frozen=True)
class PiiLineage:
    domain: str
    lineage: Lineage


@dataclass
class ComplianceReport:
    period: Period
    made_at: datetime
    made_by: str
    changes: list[ActivityRow] = field(default_factory=list)
    accesses: list[ActivityRow] = field(default_factory=list)
    privacy: list[PrivacyRow] = field(default_factory=list)
    retention: list[RunView] = field(default_factory=list)
    consent: ConsentCoverage = ConsentCoverage({}, 0, 0)
    chain: audit.ChainReport = audit.ChainReport(True, 0)
    pii: list[PiiLineage] = field(default_factory=list)

    def change_counts(self) -> list[tuple[tuple[str, str, str], int]]:
        """(who, action, entity) → how many, most first."""
        return Counter((r.who, r.action, r.what.split(" #")[0]) for r in self.changes).most_common()

    def access_counts(self) -> list[tuple[tuple[str, str, str], int]]:
        """(who, place, domain) → how many accesses, most first."""
        return Counter((r.who, r.what, r.domain) for r in self.accesses).most_common()


def standing(due: datetime, completed: datetime | None, now: datetime) -> str:
    """A privacy request against its legal deadline, by calendar day (UTC)."""
    if completed is not None:
        return "on time" if completed.date() <= due.date() else "late"
    return "open, overdue" if now.date() > due.date() else "open"


def _changes(session: Session, period: Period) -> list[ActivityRow]:
    statement = (
        select(AuditEntry)
        .where(col(AuditEntry.at) >= period.since, col(AuditEntry.at) < period.until)
        .order_by(col(AuditEntry.id))
    )
    return [
        ActivityRow(
            "change",
            e.at,
            e.actor,
            e.action,
            f"{e.entity} #{e.entity_id}" if e.entity_id else e.entity,
            "",
            e.summary,
        )
        for e in session.exec(statement).yield_per(1000)
    ]


def _accesses(session: Session, period: Period) -> list[ActivityRow]:
    statement = (
        select(AccessLogEntry)
        .where(col(AccessLogEntry.at) >= period.since, col(AccessLogEntry.at) < period.until)
        .order_by(col(AccessLogEntry.id))
    )
    return [
        ActivityRow(
            "access",
            a.at,
            a.username,
            a.kind,
            a.place,
            a.domain,
            " · ".join(x for x in (a.entity, a.fields) if x),
            a.record_count,
        )
        for a in session.exec(statement).yield_per(1000)
    ]


def _privacy(session: Session, period: Period, now: datetime) -> list[PrivacyRow]:
    """Every request open at some moment of the period."""
    statement = (
        select(PrivacyRequest)
        .where(
            col(PrivacyRequest.received_at) < period.until,
            col(PrivacyRequest.completed_at).is_(None)
            | (col(PrivacyRequest.completed_at) >= period.since),
        )
        .order_by(col(PrivacyRequest.id))
    )
    return [
        PrivacyRow(
            r.id or 0,
            r.email_hint,
            r.regulation,
            r.status,
            r.received_at,
            r.due_at,
            r.completed_at,
            standing(r.due_at, r.completed_at, now),
        )
        for r in session.exec(statement)
    ]


def _retention(session: Session, period: Period) -> list[RunView]:
    statement = (
        select(RetentionRun)
        .where(
            col(RetentionRun.started_at) >= period.since,
            col(RetentionRun.started_at) < period.until,
        )
        .order_by(col(RetentionRun.id))
    )
    return [view(run) for run in session.exec(statement)]


def _consent(session: Session) -> ConsentCoverage:
    per_purpose = {p: (0, 0) for p in PURPOSES}
    counted = session.exec(
        select(
            Consent.purpose, Consent.granted, func.count(func.distinct(Consent.email_digest))
        ).group_by(Consent.purpose, Consent.granted)
    ).all()
    for purpose, granted, persons in counted:
        yes, no = per_purpose.get(purpose, (0, 0))
        per_purpose[purpose] = (yes + persons, no) if granted else (yes, no + persons)
    digest = col(HubRecord.email_digest)
    hub = session.exec(select(func.count(func.distinct(digest))).where(digest.is_not(None))).one()
    covered = session.exec(
        select(func.count(func.distinct(digest))).where(
            digest.in_(select(Consent.email_digest).distinct())
        )
    ).one()
    return ConsentCoverage(per_purpose, hub, covered)


def _pii_lineage(ws: Workspace, actor: Actor) -> list[PiiLineage]:
    with read_session(ws.engine) as session:
        fields = session.exec(
            select(DictionaryField.id, DictionaryField.domain)
            .where(col(DictionaryField.pii))
            .order_by(col(DictionaryField.system_id), col(DictionaryField.name))
        ).all()
    return [PiiLineage(domain, field_lineage(ws, actor, field_id)) for field_id, domain in fields]


def make_report(
    ws: Workspace,
    actor: Actor,
    start: date | None,
    end: date | None,
    now: datetime | None = None,
) -> ComplianceReport:
    """The report for the days ``start`` to ``end`` (UTC, both included)."""
    require(actor, Action.VIEW_COMPLIANCE)
    now = now or utcnow()
    period = check_period(start, end, now.date())
    report = ComplianceReport(period, now, actor.username)
    with read_session(ws.engine) as session:
        report.changes = _changes(session, period)
        report.accesses = _accesses(session, period)
        report.privacy = _privacy(session, period, now)
        report.retention = _retention(session, period)
        report.consent = _consent(session)
        report.chain = audit.verify_chain(session)
    report.pii = _pii_lineage(ws, actor)
    _record_making(ws, actor, report)
    return report


def _record_making(ws: Workspace, actor: Actor, report: ComplianceReport) -> None:
    rows = len(report.changes) + len(report.accesses)
    with transaction(ws) as session:
        session.add(
            AccessLogEntry(username=actor.username, kind="export", place=PLACE, record_count=rows)
        )
        audit.record(
            session,
            actor=actor.username,
            action="export",
            entity="compliance_report",
            summary=f"Made the compliance report for {report.period.label}",
            after={"start": str(report.period.start), "end": str(report.period.end)},
        )
