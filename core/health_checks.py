"""Health checks: is each flow bringing the data it should, on time and without errors?

Six kinds, each with a threshold in its own unit (SPEC §6 gives the first four)::

    record_count   records read in the last window, in % of expected     alert under 50 %
    completeness   days since the last run that brought records          alert over 1 day
    latency        worst delay in the window (webhook events, or runs'    alert over 5 minutes
                   queue-to-finish time), in minutes
    success_rate   succeeded runs in % of finished runs in the window     alert under 95 %
    freshness      hours since the last successful run, vs the flow's SLA alert over the SLA
    error_rate     calls not answered ok in % of calls in the window      alert over 1 %

"Expected" for the record count is typed by hand or learned: the median of the records
read in the same hour of the same weekday over the last 14 days, so a quiet weekend is
measured against past weekends, not against a busy Tuesday.

The worker calls ``evaluate_due``; every evaluation is stored as a ``CheckResult``, and the
check row keeps the newest status so dashboards read one row per check.
"""

from __future__ import annotations

import logging
import statistics
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import schedule
from sqlalchemy import case, func
from sqlmodel import Session, col, select

from core import alerts, audit
from core.errors import FieldProblem, InputError, NotFound, SwitchboardError
from core.gateway import Gateway
from core.permissions import DOMAINS, Action, Actor, require
from core.workspace import Workspace, transaction
from db.engine import read_session
from db.models import ApiCall, Integration, IntegrationRun, WebhookEvent
from db.monitoring import CheckResult, HealthCheck

log = logging.getLogger("switchboard.health")
SEVERITIES = ("critical", "high", "medium", "low")


@dataclass(frozen=True)
class Kind:
    """What a kind of check measures and how its threshold reads."""

    label: str
    unit: str
    # "below": failing when the value is under the threshold; "above": over it
    fails_when: str
    low: float
    high: float
    default_threshold: float
    default_every_minutes: int


KINDS: dict[str, Kind] = {
    "record_count": Kind("Record count", "% of expected", "below", 1, 100, 50, 60),
    "completeness": Kind("Completeness", "days without data", "above", 0.05, 90, 1, 1440),
    "latency": Kind("Latency", "minutes", "above", 0.01, 1440, 5, 1),
    "success_rate": Kind("Success rate", "% of runs", "below", 1, 100, 95, 60),
    "freshness": Kind("Freshness", "hours since last success", "above", 0.01, 720, 24, 15),
    "error_rate": Kind("Error rate", "% of calls", "above", 0.01, 100, 1, 60),
}
# flows someone else runs (native export, a website tag) leave no runs here to measure
WATCHED_ELSEWHERE = frozenset({"native", "javascript"})


def sla_hours(flow: Integration) -> float:
    """The flow's freshness SLA: how old its newest successful run may be."""
    if flow.frequency == "real-time":
        return 5 / 60
    if flow.frequency == "every_n_minutes":
        return 2 * (flow.every_minutes or 15) / 60
    return {"hourly": 2.0, "daily": 24.0, "weekly": 24.0 * 8}.get(flow.frequency, 24.0)


def _severity_for(flow: Integration) -> str:
    return flow.criticality if flow.criticality in SEVERITIES else "medium"


def _ensure_defaults(
    session: Session, now: datetime, domains: Collection[str] | None = None
) -> int:
    """Give every flow (of ``domains``, when given) the six checks it lacks; returns how
    many were added."""
    have = set(session.exec(select(HealthCheck.integration_id, HealthCheck.kind)).all())
    added = 0
    flows = select(Integration)
    if domains is not None:
        flows = flows.where(col(Integration.domain).in_(domains))
    for flow in session.exec(flows).all():
        for kind_name, kind in KINDS.items():
            if (flow.id, kind_name) in have:
                continue
            threshold = sla_hours(flow) if kind_name == "freshness" else kind.default_threshold
            session.add(
                HealthCheck(
                    integration_id=flow.id,
                    kind=kind_name,
                    threshold=round(threshold, 4),
                    every_minutes=kind.default_every_minutes,
                    severity=_severity_for(flow),
                    next_due_at=now,
                )
            )
            added += 1
    return added


def ensure_default_checks(ws: Workspace, actor: Actor, now: datetime | None = None) -> int:
    """Add the default checks to every flow that lacks them (audited); returns how many.

    Only flows of the domains where the actor may manage monitoring get them."""
    require(actor, Action.MANAGE_MONITORING)
    allowed = actor.domains_where(Action.MANAGE_MONITORING)
    now = now or datetime.now(UTC)
    with transaction(ws) as session:
        added = _ensure_defaults(session, now, None if len(allowed) == len(DOMAINS) else allowed)
        if added:
            audit.record(
                session,
                actor=actor.username,
                action="create",
                entity="health_check",
                summary=f"Added {added} default health check(s)",
            )
    return added


# --- editing ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckInput:
    """What a person may change on a check."""

    threshold: float
    every_minutes: int
    severity: str
    expected_mode: str = "learned"
    expected_value: float | None = None
    enabled: bool = True


def _validate(kind_name: str, data: CheckInput) -> list[FieldProblem]:
    kind = KINDS[kind_name]
    problems = []
    if not kind.low <= data.threshold <= kind.high:
        problems.append(
            FieldProblem(
                "Threshold",
                f"must be between {kind.low:g} and {kind.high:g} ({kind.unit}); "
                f"{data.threshold:g} is out of range.",
            )
        )
    if not 1 <= data.every_minutes <= 10_080:
        problems.append(FieldProblem("Every (minutes)", "must be between 1 and 10080 (one week)."))
    if data.severity not in SEVERITIES:
        problems.append(FieldProblem("Severity", f"must be one of {', '.join(SEVERITIES)}."))
    if data.expected_mode not in ("manual", "learned"):
        problems.append(FieldProblem("Expected", "must be 'manual' or 'learned'."))
    if kind_name == "record_count" and data.expected_mode == "manual":
        if data.expected_value is None or data.expected_value <= 0:
            problems.append(
                FieldProblem(
                    "Expected records",
                    "must be a number above 0 when expected is set by hand; or choose "
                    "'learned from history'.",
                )
            )
    return problems


def update_check(ws: Workspace, actor: Actor, check_id: int, data: CheckInput) -> None:
    """Change a check's threshold, frequency, severity or expectation (audited). A check
    belongs to its flow's domain."""
    require(actor, Action.MANAGE_MONITORING)
    with transaction(ws) as session:
        check = session.get(HealthCheck, check_id)
        if check is None:
            raise NotFound("This health check no longer exists.", fix="Reload the page.")
        flow = session.get(Integration, check.integration_id)  # a flow takes its checks along
        require(actor, Action.MANAGE_MONITORING, flow.domain)
        problems = _validate(check.kind, data)
        if problems:
            raise InputError(problems)
        before = _public(check)
        check.threshold = float(data.threshold)
        check.every_minutes = int(data.every_minutes)
        check.severity = data.severity
        check.expected_mode = data.expected_mode
        check.expected_value = (
            float(data.expected_value) if data.expected_value is not None else None
        )
        check.enabled = data.enabled
        check.next_due_at = min(check.next_due_at or datetime.now(UTC), datetime.now(UTC))
        check.updated_at = datetime.now(UTC)
        session.add(check)
        old, new = audit.changes(before, _public(check))
        audit.record(
            session,
            actor=actor.username,
            action="update",
            entity="health_check",
            entity_id=check.id,
            summary=f"Changed the {KINDS[check.kind].label.lower()} check of flow "
            f"#{check.integration_id}",
            before=old,
            after=new,
        )


def _public(check: HealthCheck) -> dict:
    return {
        "threshold": check.threshold,
        "every_minutes": check.every_minutes,
        "severity": check.severity,
        "expected_mode": check.expected_mode,
        "expected_value": check.expected_value,
        "enabled": check.enabled,
    }


# --- measuring --------------------------------------------------------------------------


@dataclass(frozen=True)
class Measurement:
    """One evaluation's outcome: ok | failing | no_data, the value and a sentence."""

    status: str
    value: float | None
    message: str
    expected: float | None = None


def _window(check: HealthCheck) -> timedelta:
    return timedelta(minutes=max(check.every_minutes, 15))


def _records_between(session: Session, flow_id: int, start: datetime, end: datetime) -> tuple:
    """(records read, runs) of the flow's runs finished in [start, end)."""
    return session.exec(
        select(func.coalesce(func.sum(IntegrationRun.records_read), 0), func.count()).where(
            IntegrationRun.integration_id == flow_id,
            col(IntegrationRun.status).in_(("succeeded", "failed")),
            col(IntegrationRun.finished_at) >= start,
            col(IntegrationRun.finished_at) < end,
        )
    ).one()


def learned_expected(
    session: Session, flow_id: int, now: datetime, window: timedelta = timedelta(hours=1)
) -> float | None:
    """The median of the records read in the same window of the same weekday over the last
    14 days (a week ago and two weeks ago). None when the flow has no history there."""
    samples = []
    seen_runs = 0
    for weeks in (1, 2):
        end = now - timedelta(days=7 * weeks)
        records, runs = _records_between(session, flow_id, end - window, end)
        samples.append(float(records))
        seen_runs += runs
    return statistics.median(samples) if seen_runs else None


def _fmt(value: float) -> str:
    return f"{value:,.1f}".rstrip("0").rstrip(".")


def measure(session: Session, check: HealthCheck, flow: Integration, now: datetime) -> Measurement:
    """Evaluate one check at ``now`` from the stored runs, calls and events."""
    window = _window(check)
    start = now - window
    if flow.method in WATCHED_ELSEWHERE:
        return Measurement("no_data", None, "Run by another system: no runs to measure here yet.")
    if check.kind == "record_count":
        expected = (
            check.expected_value
            if check.expected_mode == "manual"
            else learned_expected(session, flow.id, now, window)
        )
        records, _runs = _records_between(session, flow.id, start, now)
        if not expected:
            return Measurement("no_data", float(records), "No expectation yet (no history).")
        share = 100.0 * records / expected
        status = "failing" if share < check.threshold else "ok"
        return Measurement(
            status,
            round(share, 2),
            f"{records:,} record(s) in the last {_fmt(window.total_seconds() / 60)} min, "
            f"{share:.0f}% of the {_fmt(expected)} expected (alert under {check.threshold:g}%).",
            expected,
        )
    if check.kind in ("completeness", "freshness"):
        condition = [
            IntegrationRun.integration_id == flow.id,
            IntegrationRun.status == "succeeded",
        ]
        if check.kind == "completeness":
            condition.append(IntegrationRun.records_read > 0)
        last = session.exec(select(func.max(IntegrationRun.finished_at)).where(*condition)).one()
        if last is None:
            return Measurement("no_data", None, "No successful run yet.")
        if last.tzinfo is None:
            last = last.replace(tzinfo=UTC)
        age_hours = (now - last).total_seconds() / 3600
        value = age_hours / 24 if check.kind == "completeness" else age_hours
        unit = "day(s)" if check.kind == "completeness" else "hour(s)"
        status = "failing" if value > check.threshold else "ok"
        what = "data arrived" if check.kind == "completeness" else "a successful run"
        return Measurement(
            status,
            round(value, 3),
            f"Last {what} {value:.2f} {unit} ago (alert over {check.threshold:g}).",
        )
    if check.kind == "latency":
        worst_ms = None
        if flow.method == "webhook" and flow.source_connector_id is not None:
            worst_ms = session.exec(
                select(func.max(WebhookEvent.delay_ms)).where(
                    WebhookEvent.connector_id == flow.source_connector_id,
                    col(WebhookEvent.delivered_at) >= start,
                )
            ).one()
        else:
            runs = session.exec(
                select(IntegrationRun.requested_at, IntegrationRun.finished_at).where(
                    IntegrationRun.integration_id == flow.id,
                    col(IntegrationRun.finished_at) >= start,
                )
            ).all()
            delays = [
                (finished - requested).total_seconds() * 1000
                for requested, finished in runs
                if finished and requested
            ]
            worst_ms = max(delays) if delays else None
        if worst_ms is None:
            return Measurement("no_data", None, "Nothing delivered in the window.")
        minutes = worst_ms / 60_000
        status = "failing" if minutes > check.threshold else "ok"
        return Measurement(
            status,
            round(minutes, 3),
            f"Worst delay {minutes:.2f} min in the last {_fmt(window.total_seconds() / 60)} "
            f"min (alert over {check.threshold:g}).",
        )
    if check.kind == "success_rate":
        succeeded, finished = session.exec(
            select(
                func.coalesce(
                    func.sum(case((IntegrationRun.status == "succeeded", 1), else_=0)), 0
                ),
                func.count(),
            ).where(
                IntegrationRun.integration_id == flow.id,
                col(IntegrationRun.status).in_(("succeeded", "failed")),
                col(IntegrationRun.finished_at) >= start,
            )
        ).one()
        if not finished:
            return Measurement("no_data", None, "No run finished in the window.")
        rate = 100.0 * succeeded / finished
        status = "failing" if rate < check.threshold else "ok"
        return Measurement(
            status,
            round(rate, 2),
            f"{succeeded} of {finished} run(s) succeeded ({rate:.1f}%; alert under "
            f"{check.threshold:g}%).",
        )
    # error_rate
    bad, total = session.exec(
        select(
            func.coalesce(func.sum(case((ApiCall.outcome != "ok", 1), else_=0)), 0),
            func.count(),
        ).where(ApiCall.integration_id == flow.id, ApiCall.at >= start)
    ).one()
    if not total:
        return Measurement("no_data", None, "No call in the window.")
    rate = 100.0 * bad / total
    status = "failing" if rate > check.threshold else "ok"
    return Measurement(
        status,
        round(rate, 3),
        f"{bad} of {total} call(s) not ok ({rate:.2f}%; alert over {check.threshold:g}%).",
    )


def _store(session: Session, check: HealthCheck, result: Measurement, now: datetime) -> None:
    session.add(
        CheckResult(
            check_id=check.id,
            at=now,
            status=result.status,
            value=result.value,
            expected=result.expected,
            threshold=check.threshold,
            message=result.message,
        )
    )
    check.last_status = result.status
    check.last_value = result.value
    check.last_message = result.message
    check.last_at = now
    check.next_due_at = now + timedelta(minutes=check.every_minutes)
    session.add(check)


def evaluate_due(ws: Workspace, now: datetime | None = None, *, force: bool = False) -> int:
    """Evaluate every enabled check that is due (all of them with ``force``); stores each
    result and opens, updates or resolves its alert in the same transaction."""
    now = now or datetime.now(UTC)
    done = 0
    with transaction(ws) as session:
        _ensure_defaults(session, now)
        session.flush()
        statement = select(HealthCheck, Integration).join(
            Integration, col(Integration.id) == HealthCheck.integration_id
        )
        statement = statement.where(HealthCheck.enabled == True)  # noqa: E712
        if not force:
            statement = statement.where(
                (col(HealthCheck.next_due_at).is_(None)) | (col(HealthCheck.next_due_at) <= now)
            )
        for check, flow in session.exec(statement).all():
            if not flow.enabled:
                continue
            result = measure(session, check, flow, now)
            _store(session, check, result, now)
            alerts.on_result(session, check, flow, result.status, result.message, now)
            done += 1
    return done


def run_check_now(ws: Workspace, actor: Actor, check_id: int) -> Measurement:
    """Evaluate one check at once (the page's "Check now"), storing the result; it may open
    or resolve the check's alert, so it takes the right in the flow's domain."""
    require(actor, Action.MANAGE_MONITORING)
    now = datetime.now(UTC)
    with transaction(ws) as session:
        check = session.get(HealthCheck, check_id)
        if check is None:
            raise NotFound("This health check no longer exists.", fix="Reload the page.")
        flow = session.get(Integration, check.integration_id)
        require(actor, Action.MANAGE_MONITORING, flow.domain)
        result = measure(session, check, flow, now)
        _store(session, check, result, now)
        alerts.on_result(session, check, flow, result.status, result.message, now)
    return result


# --- reading ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckView:
    id: int
    integration_id: int
    flow: str
    domain: str
    kind: str
    label: str
    unit: str
    threshold: float
    every_minutes: int
    severity: str
    expected_mode: str
    expected_value: float | None
    enabled: bool
    status: str
    value: float | None
    message: str
    at: datetime | None


def list_checks(ws: Workspace, actor: Actor, integration_id: int | None = None) -> list[CheckView]:
    """Every check with its newest result, by flow name (one query)."""
    require(actor, Action.VIEW_MONITORING)
    with read_session(ws.engine) as session:
        statement = select(HealthCheck, Integration.name, Integration.domain).join(
            Integration, col(Integration.id) == HealthCheck.integration_id
        )
        if integration_id is not None:
            statement = statement.where(HealthCheck.integration_id == integration_id)
        rows = session.exec(statement.order_by(Integration.name, HealthCheck.id)).all()
    return [
        CheckView(
            id=c.id,
            integration_id=c.integration_id,
            flow=name,
            domain=domain,
            kind=c.kind,
            label=KINDS[c.kind].label,
            unit=KINDS[c.kind].unit,
            threshold=c.threshold,
            every_minutes=c.every_minutes,
            severity=c.severity,
            expected_mode=c.expected_mode,
            expected_value=c.expected_value,
            enabled=c.enabled,
            status=c.last_status or "no_data",
            value=c.last_value,
            message=c.last_message,
            at=c.last_at,
        )
        for c, name, domain in rows
    ]


def check_history(ws: Workspace, actor: Actor, check_id: int, limit: int = 200) -> list[dict]:
    """A check's newest results first."""
    require(actor, Action.VIEW_MONITORING)
    with read_session(ws.engine) as session:
        rows = session.exec(
            select(CheckResult)
            .where(CheckResult.check_id == check_id)
            .order_by(col(CheckResult.at).desc())
            .limit(limit)
        ).all()
    return [
        {"at": r.at, "status": r.status, "value": r.value, "expected": r.expected,
         "threshold": r.threshold, "message": r.message}
        for r in rows
    ]  # fmt: skip


# --- the worker's jobs ------------------------------------------------------------------

EVALUATE_EVERY_SECONDS = 30
ESCALATE_EVERY_SECONDS = 30
DELIVER_EVERY_SECONDS = 5


def _guarded(name: str, job: Callable[[], object]) -> Callable[[], None]:
    """A job whose failure is logged and retried at its next turn, never fatal."""

    def run() -> None:
        try:
            job()
        except SwitchboardError as exc:
            log.error("%s failed: %s", name, exc)

    return run


def schedule_monitoring(ws: Workspace, scheduler: schedule.Scheduler, gateway: Gateway) -> None:
    """Register the worker's monitoring jobs: evaluate due checks, escalate, deliver."""
    from core.alert_delivery import deliver_pending

    scheduler.every(EVALUATE_EVERY_SECONDS).seconds.do(
        _guarded("health checks", lambda: evaluate_due(ws))
    ).tag("health")
    scheduler.every(ESCALATE_EVERY_SECONDS).seconds.do(
        _guarded("escalation", lambda: alerts.escalate_due(ws))
    ).tag("alerts")
    scheduler.every(DELIVER_EVERY_SECONDS).seconds.do(
        _guarded("alert deliveries", lambda: deliver_pending(ws, gateway))
    ).tag("alerts")
