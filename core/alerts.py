"""Alerts: the policy, one alert per failing check, acknowledgement, escalation, silences.

The life of an alert::

    check fails ──▶ open ──(person acknowledges)──▶ acknowledged ──┐
                     │  └─(response time passes)─▶ escalated: next level, its channels
                     └──────────────(check passes again)──────────┴─▶ resolved ("recovered")

A repeat failure updates the open alert (``repeats``), it does not send again. An alert
that opens more than ``FLAP_LIMIT`` times within ``FLAP_WINDOW`` is marked flapping and
held back; so is one that opens during a silence or a maintenance window (``held`` says
why). Held alerts are shown, never sent; a silence that ends releases its open alerts.

Messages are not sent here: this module queues ``AlertDelivery`` rows in the caller's
transaction, and ``core.alert_delivery.deliver_pending`` (the worker) sends them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from core import audit
from core.errors import FieldProblem, InputError, NotFound
from core.permissions import Action, Actor, require
from core.workspace import Workspace, transaction
from db.engine import read_session
from db.models import Integration
from db.monitoring import (
    Alert,
    AlertChannel,
    AlertDelivery,
    AlertLevel,
    HealthCheck,
    Silence,
)

# most severe first; escalation moves one step towards the front
LEVELS = ("critical", "high", "medium", "low")
FLAP_WINDOW = timedelta(hours=1)
# the third opening within the window is flapping
FLAP_LIMIT = 2
WORKER = "worker"


@dataclass(frozen=True)
class LevelDefault:
    response_minutes: int
    channel_kinds: tuple[str, ...]
    escalate_to: str


# SPEC §6: Critical <15 min PagerDuty → manager; High <1 h Slack and e-mail → team lead;
# Medium <4 h e-mail → team; Low <24 h ticket → backlog.
POLICY_DEFAULTS = {
    "critical": LevelDefault(15, ("pagerduty",), "Manager"),
    "high": LevelDefault(60, ("slack", "email"), "Team lead"),
    "medium": LevelDefault(240, ("email",), "Team"),
    "low": LevelDefault(1440, ("ticket",), "Backlog"),
}


def ensure_policy(session: Session) -> None:
    """Create the seed's policy rows and the internal ticket channel when missing."""
    if session.get(AlertLevel, "critical") is not None:
        return
    tickets = session.exec(select(AlertChannel).where(AlertChannel.kind == "ticket")).first()
    if tickets is None:
        tickets = AlertChannel(name="Internal tickets", kind="ticket")
        session.add(tickets)
        session.flush()
    for severity, default in POLICY_DEFAULTS.items():
        ids = [tickets.id] if "ticket" in default.channel_kinds else []
        session.add(
            AlertLevel(
                severity=severity,
                response_minutes=default.response_minutes,
                channel_ids_json=json.dumps(ids),
                escalate_to=default.escalate_to,
            )
        )
    session.flush()


# --- the policy -------------------------------------------------------------------------


@dataclass(frozen=True)
class LevelView:
    severity: str
    response_minutes: int
    channel_ids: list[int]
    escalate_to: str


def get_policy(ws: Workspace, actor: Actor) -> list[LevelView]:
    """The four levels, most severe first."""
    require(actor, Action.VIEW_MONITORING)
    with transaction(ws) as session:
        ensure_policy(session)
        rows = {r.severity: r for r in session.exec(select(AlertLevel)).all()}
    return [
        LevelView(s, rows[s].response_minutes, json.loads(rows[s].channel_ids_json),
                  rows[s].escalate_to)
        for s in LEVELS
    ]  # fmt: skip


def update_level(
    ws: Workspace,
    actor: Actor,
    severity: str,
    *,
    response_minutes: int,
    channel_ids: list[int],
    escalate_to: str,
) -> None:
    """Change one level of the policy (audited)."""
    require(actor, Action.MANAGE_MONITORING)
    problems = []
    if severity not in LEVELS:
        problems.append(FieldProblem("Severity", f"must be one of {', '.join(LEVELS)}."))
    if not 1 <= int(response_minutes) <= 10_080:
        problems.append(
            FieldProblem("Response time (minutes)", "must be between 1 and 10080 (a week).")
        )
    if len(escalate_to.strip()) > 120:
        problems.append(FieldProblem("Escalate to", "must be at most 120 characters."))
    if problems:
        raise InputError(problems)
    with transaction(ws) as session:
        ensure_policy(session)
        known = set(session.exec(select(AlertChannel.id)).all())
        unknown = [c for c in channel_ids if c not in known]
        if unknown:
            raise InputError.one("Channels", "one of them was deleted meanwhile; reload the page.")
        row = session.get(AlertLevel, severity)
        before = {"response_minutes": row.response_minutes, "channels": row.channel_ids_json,
                  "escalate_to": row.escalate_to}  # fmt: skip
        row.response_minutes = int(response_minutes)
        row.channel_ids_json = json.dumps(sorted(set(channel_ids)))
        row.escalate_to = escalate_to.strip()
        row.updated_at = datetime.now(UTC)
        session.add(row)
        after = {"response_minutes": row.response_minutes, "channels": row.channel_ids_json,
                 "escalate_to": row.escalate_to}  # fmt: skip
        old, new = audit.changes(before, after)
        audit.record(
            session,
            actor=actor.username,
            action="update",
            entity="alert_policy",
            entity_id=severity,
            summary=f"Changed the {severity} level of the alert policy",
            before=old,
            after=new,
        )


# --- silences and maintenance windows ---------------------------------------------------


def active_hold(session: Session, integration_id: int, now: datetime) -> str:
    """'maintenance' or 'silenced' when a window covers the flow now, else ''."""
    rows = session.exec(
        select(Silence.kind).where(
            Silence.starts_at <= now,
            Silence.ends_at > now,
            (col(Silence.integration_id).is_(None)) | (Silence.integration_id == integration_id),
        )
    ).all()
    if "maintenance" in rows:
        return "maintenance"
    return "silenced" if rows else ""


def create_silence(
    ws: Workspace,
    actor: Actor,
    *,
    integration_id: int | None,
    kind: str,
    starts_at: datetime,
    ends_at: datetime,
    reason: str,
    now: datetime | None = None,
) -> int:
    """Hold alerts of a flow (or all flows) back between two times (audited). A flow's
    silence takes the right in its domain; one for every flow is workspace-wide."""
    require(actor, Action.HANDLE_ALERTS)
    now = now or datetime.now(UTC)
    problems = []
    if kind not in ("silence", "maintenance"):
        problems.append(FieldProblem("Kind", "must be 'silence' or 'maintenance'."))
    if ends_at <= starts_at:
        problems.append(FieldProblem("Ends", "must be after the start."))
    elif ends_at <= now:
        problems.append(FieldProblem("Ends", "is already past; choose a time in the future."))
    elif ends_at - starts_at > timedelta(days=30):
        problems.append(FieldProblem("Ends", "must be within 30 days of the start."))
    if not reason.strip():
        problems.append(FieldProblem("Reason", "is required, so others know why alerts wait."))
    if problems:
        raise InputError(problems)
    with transaction(ws) as session:
        if integration_id is not None:
            flow = session.get(Integration, integration_id)
            if flow is None:
                raise InputError.one("Flow", "no longer exists; reload the page.")
            require(actor, Action.HANDLE_ALERTS, flow.domain)
        silence = Silence(
            integration_id=integration_id,
            kind=kind,
            starts_at=starts_at,
            ends_at=ends_at,
            reason=reason.strip()[:200],
            created_by=actor.username,
        )
        session.add(silence)
        session.flush()
        audit.record(
            session,
            actor=actor.username,
            action="create",
            entity="silence",
            entity_id=silence.id,
            summary=f"{kind.title()} until {ends_at:%Y-%m-%d %H:%M} UTC: {reason.strip()}",
        )
        return silence.id


def end_silence(ws: Workspace, actor: Actor, silence_id: int) -> None:
    """End a silence or maintenance window now (audited); in the flow's domain, as above."""
    require(actor, Action.HANDLE_ALERTS)
    with transaction(ws) as session:
        silence = session.get(Silence, silence_id)
        if silence is None:
            raise NotFound("This silence no longer exists.", fix="Reload the page.")
        if silence.integration_id is not None:
            flow = session.get(Integration, silence.integration_id)  # takes its silences along
            require(actor, Action.HANDLE_ALERTS, flow.domain)
        silence.ends_at = min(silence.ends_at, datetime.now(UTC))
        session.add(silence)
        audit.record(
            session,
            actor=actor.username,
            action="update",
            entity="silence",
            entity_id=silence_id,
            summary="Ended early",
        )


def list_silences(ws: Workspace, actor: Actor, now: datetime | None = None) -> list[dict]:
    """Silences and maintenance windows that have not ended yet."""
    require(actor, Action.VIEW_MONITORING)
    now = now or datetime.now(UTC)
    with read_session(ws.engine) as session:
        names = dict(session.exec(select(Integration.id, Integration.name)).all())
        rows = session.exec(
            select(Silence).where(Silence.ends_at > now).order_by(Silence.starts_at)
        ).all()
    return [
        {"id": s.id, "flow": names.get(s.integration_id, "(every flow)"), "kind": s.kind,
         "starts_at": s.starts_at, "ends_at": s.ends_at, "reason": s.reason,
         "by": s.created_by, "active": s.starts_at <= now}
        for s in rows
    ]  # fmt: skip


# --- the life cycle ---------------------------------------------------------------------


def _queue(
    session: Session, alert: Alert, event: str, levels: tuple[str, ...], now: datetime
) -> int:
    """Queue one delivery per channel of the given levels; returns how many."""
    ensure_policy(session)
    channel_ids: set[int] = set()
    for level in levels:
        row = session.get(AlertLevel, level)
        channel_ids.update(json.loads(row.channel_ids_json) if row else [])
    enabled = set(
        session.exec(
            select(AlertChannel.id).where(
                col(AlertChannel.id).in_(channel_ids),
                AlertChannel.enabled == True,  # noqa: E712
            )
        ).all()
    )
    for channel_id in sorted(enabled):
        session.add(
            AlertDelivery(
                alert_id=alert.id, channel_id=channel_id, event=event, next_attempt_at=now
            )
        )
    return len(enabled)


def _levels_touched(alert: Alert) -> tuple[str, ...]:
    """The levels from the alert's own severity up to its current level."""
    start, end = LEVELS.index(alert.severity), LEVELS.index(alert.level)
    return tuple(LEVELS[end : start + 1])


def on_result(
    session: Session,
    check: HealthCheck,
    flow: Integration,
    status: str,
    message: str,
    now: datetime,
) -> Alert | None:
    """Open, update or resolve the check's alert after an evaluation (caller's transaction)."""
    if status == "no_data":
        return None
    alert = session.exec(
        select(Alert).where(Alert.check_id == check.id, Alert.status != "resolved")
    ).first()
    if status == "failing":
        if alert is not None:
            alert.repeats += 1
            alert.last_seen_at = now
            alert.message = message
            session.add(alert)
            return alert
        recent = session.exec(
            select(func.count(Alert.id)).where(
                Alert.check_id == check.id, Alert.opened_at >= now - FLAP_WINDOW
            )
        ).one()
        held = "flapping" if recent >= FLAP_LIMIT else active_hold(session, flow.id, now)
        from core.health_checks import KINDS

        alert = Alert(
            check_id=check.id,
            integration_id=flow.id,
            severity=check.severity,
            level=check.severity,
            held=held,
            title=f"{flow.name}: {KINDS[check.kind].label.lower()} failing",
            message=message,
            dedup_key="pending",
            opened_at=now,
            last_seen_at=now,
            level_since=now,
        )
        session.add(alert)
        session.flush()
        alert.dedup_key = f"switchboard-alert-{alert.id}"
        session.add(alert)
        if not held:
            _queue(session, alert, "trigger", (alert.level,), now)
        audit.record(
            session,
            actor=WORKER,
            action="open",
            entity="alert",
            entity_id=alert.id,
            summary=f"{alert.title} ({alert.severity}{', held: ' + held if held else ''})",
        )
        return alert
    if alert is None:
        return None
    alert.status = "resolved"
    alert.resolved_at = now
    alert.message = f"Recovered: {message}"
    session.add(alert)
    if not alert.held:
        _queue(session, alert, "resolve", _levels_touched(alert), now)
    audit.record(
        session,
        actor=WORKER,
        action="resolve",
        entity="alert",
        entity_id=alert.id,
        summary=f"{alert.title}: recovered",
    )
    return alert


def acknowledge(ws: Workspace, actor: Actor, alert_id: int, now: datetime | None = None) -> None:
    """A person takes the alert: escalation stops; the channels are told (audited). The
    alert belongs to its check's flow, and so to that flow's domain."""
    require(actor, Action.HANDLE_ALERTS)
    now = now or datetime.now(UTC)
    with transaction(ws) as session:
        alert = session.get(Alert, alert_id)
        if alert is None:
            raise NotFound("This alert no longer exists.", fix="Reload the page.")
        flow = session.get(Integration, alert.integration_id)  # takes its alerts along
        require(actor, Action.HANDLE_ALERTS, flow.domain)
        if alert.status != "open":
            raise InputError.one(
                "Alert", f"is already {alert.status}; there is nothing to acknowledge."
            )
        alert.status = "acknowledged"
        alert.acknowledged_by = actor.username
        alert.acknowledged_at = now
        session.add(alert)
        if not alert.held:
            _queue(session, alert, "acknowledge", _levels_touched(alert), now)
        audit.record(
            session,
            actor=actor.username,
            action="acknowledge",
            entity="alert",
            entity_id=alert.id,
            summary=alert.title,
        )


def escalate_due(ws: Workspace, now: datetime | None = None) -> int:
    """Escalate every open, unacknowledged alert whose level's response time has passed,
    and release alerts whose silence has ended. Returns how many alerts were escalated."""
    now = now or datetime.now(UTC)
    escalated = 0
    with transaction(ws) as session:
        ensure_policy(session)
        policy = {r.severity: r for r in session.exec(select(AlertLevel)).all()}
        for alert in session.exec(select(Alert).where(Alert.status == "open")).all():
            if alert.held in ("silenced", "maintenance"):
                if not active_hold(session, alert.integration_id, now):
                    alert.held = ""
                    alert.level_since = now
                    session.add(alert)
                    _queue(session, alert, "trigger", (alert.level,), now)
                continue
            if alert.held:
                continue
            level = policy[alert.level]
            since = alert.level_since
            if since.tzinfo is None:
                since = since.replace(tzinfo=UTC)
            if now - since < timedelta(minutes=level.response_minutes):
                continue
            position = LEVELS.index(alert.level)
            alert.level = LEVELS[max(0, position - 1)]
            alert.level_since = now
            alert.escalations += 1
            target = level.escalate_to or "the next level"
            session.add(alert)
            _queue(session, alert, "escalate", (alert.level,), now)
            audit.record(
                session,
                actor=WORKER,
                action="escalate",
                entity="alert",
                entity_id=alert.id,
                summary=f"{alert.title}: escalated to {alert.level} ({target})",
            )
            escalated += 1
    return escalated


# --- reading ----------------------------------------------------------------------------


@dataclass(frozen=True)
class AlertView:
    id: int
    flow: str
    integration_id: int
    title: str
    message: str
    severity: str
    level: str
    status: str
    held: str
    repeats: int
    escalations: int
    opened_at: datetime
    last_seen_at: datetime
    acknowledged_by: str
    resolved_at: datetime | None


def list_alerts(
    ws: Workspace, actor: Actor, *, include_resolved: bool = False, limit: int = 500
) -> list[AlertView]:
    """Open and acknowledged alerts (and resolved ones when asked), most severe first."""
    require(actor, Action.VIEW_MONITORING)
    with read_session(ws.engine) as session:
        statement = select(Alert, Integration.name).join(
            Integration, col(Integration.id) == Alert.integration_id
        )
        if not include_resolved:
            statement = statement.where(Alert.status != "resolved")
        rows = session.exec(statement.order_by(col(Alert.opened_at).desc()).limit(limit)).all()
    views = [
        AlertView(a.id, name, a.integration_id, a.title, a.message, a.severity, a.level,
                  a.status, a.held, a.repeats, a.escalations, a.opened_at, a.last_seen_at,
                  a.acknowledged_by, a.resolved_at)
        for a, name in rows
    ]  # fmt: skip
    return sorted(views, key=lambda v: (v.status == "resolved", LEVELS.index(v.level)))


def open_counts(session: Session) -> dict[str, int]:
    """Open (unresolved) alerts per current level, held ones included."""
    counts = dict(
        session.exec(
            select(Alert.level, func.count(Alert.id))
            .where(Alert.status != "resolved")
            .group_by(Alert.level)
        ).all()
    )
    return {level: counts.get(level, 0) for level in LEVELS}
