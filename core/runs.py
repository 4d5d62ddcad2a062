"""Runs of flows: requests (schedule, Run now, webhook), claims with leases, cancel, history.

A run is claimed by one worker at a time: the worker takes the flow's lease (a row with an
expiry) in the same transaction that marks the run running. On PostgreSQL the queued run
is picked with ``FOR UPDATE SKIP LOCKED``, so two workers never pick the same one; on
SQLite writes are serialised. A worker renews its lease with every page; a dead worker's
lease expires and its run is put back in the queue, to resume from its last committed page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from core import audit
from core.errors import InputError, NotFound
from core.integrations import RUN_BY_WORKER
from core.permissions import Action, Actor, require
from core.scheduling import Schedule, next_run_after
from core.workspace import Workspace, transaction
from db.engine import read_session
from db.models import Integration, IntegrationLease, IntegrationRun, RejectedRecord, utcnow

LEASE_SECONDS = 120
ACTIVE = ("queued", "running")


def schedule_of(flow: Integration) -> Schedule:
    return Schedule(flow.frequency, flow.every_minutes, flow.at_time, flow.weekday)


def request_run(
    ws: Workspace, actor: Actor, integration_id: int, trigger: str = "manual"
) -> IntegrationRun:
    """Run now: queue a run unless one is already queued or running. The actor must be an
    editor in the flow's domain."""
    require(actor, Action.RUN_INTEGRATIONS)
    with transaction(ws) as session:
        flow = session.get(Integration, integration_id)
        if flow is None:
            raise NotFound(f"Flow #{integration_id} no longer exists.")
        require(actor, Action.RUN_INTEGRATIONS, flow.domain)
        if flow.method not in RUN_BY_WORKER:
            raise InputError.one(
                "Method",
                f"{flow.name} is run by {flow.method} outside Switchboard; it is watched, not run.",
            )
        if flow.source_connector_id is None or not flow.source_stream:
            raise InputError.one(
                "Source", f"{flow.name} has no source connector and stream; edit the flow."
            )
        active = session.exec(
            select(IntegrationRun).where(
                IntegrationRun.integration_id == integration_id,
                col(IntegrationRun.status).in_(ACTIVE),
            )
        ).first()
        if active is not None:
            return active
        run = IntegrationRun(
            integration_id=integration_id, trigger=trigger, requested_by=actor.username
        )
        session.add(run)
        session.flush()
        audit.record(
            session,
            actor=actor.username,
            action="run",
            entity="integration",
            entity_id=integration_id,
            summary=f"Requested a run of {flow.name}",
        )
        return run


def request_cancel(ws: Workspace, actor: Actor, run_id: int) -> None:
    """Ask the worker to stop a run after its current page (a queued run stops at once).
    The actor must be an editor in the domain of the run's flow."""
    require(actor, Action.RUN_INTEGRATIONS)
    with transaction(ws) as session:
        run = session.get(IntegrationRun, run_id)
        if run is None:
            raise NotFound(f"Run #{run_id} no longer exists.")
        flow = session.get(Integration, run.integration_id)
        require(actor, Action.RUN_INTEGRATIONS, flow.domain if flow else None)
        if run.status not in ACTIVE:
            raise InputError.one("Run", f"run #{run_id} has already {run.status}.")
        if run.status == "queued":
            run.status, run.finished_at = "cancelled", utcnow()
            run.resume_json = ""
            run.error_message = (
                f"Cancelled by {actor.username}; the {run.pages} page(s) done so far stay."
                if run.pages
                else f"Cancelled by {actor.username} before it started."
            )
        else:
            run.cancel_requested = True
        session.add(run)
        audit.record(
            session,
            actor=actor.username,
            action="cancel",
            entity="run",
            entity_id=run_id,
            summary=f"Cancelled run #{run_id}",
        )


def _queue_due(session: Session, now: datetime) -> None:
    """Turn flows whose time has come into queued runs, and set their next time."""
    due = session.exec(
        select(Integration).where(
            Integration.enabled == True,  # noqa: E712
            col(Integration.method).in_(RUN_BY_WORKER),
            col(Integration.source_connector_id).is_not(None),
            col(Integration.next_run_at).is_not(None),
            col(Integration.next_run_at) <= now,
        )
    ).all()
    for flow in due:
        flow.next_run_at = next_run_after(schedule_of(flow), now)
        session.add(flow)
        if flow.method == "webhook":
            continue  # webhook flows are driven by their events
        busy = session.exec(
            select(IntegrationRun.id).where(
                IntegrationRun.integration_id == flow.id,
                col(IntegrationRun.status).in_(ACTIVE),
            )
        ).first()
        if busy is None:
            session.add(IntegrationRun(integration_id=flow.id, trigger="schedule"))


def _requeue_orphans(session: Session, now: datetime) -> None:
    """Runs whose worker died (lease expired) go back to the queue, keeping their page."""
    expired = session.exec(select(IntegrationLease).where(IntegrationLease.expires_at < now)).all()
    for lease in expired:
        if lease.run_id is not None:
            run = session.get(IntegrationRun, lease.run_id)
            if run is not None and run.status == "running":
                run.status = "queued"
                session.add(run)
        session.delete(lease)
    session.flush()


def claim_next_run(ws: Workspace, worker_id: str, now: datetime | None = None) -> int | None:
    """Queue what is due, then take one queued run whose flow nobody holds. Returns its id
    (None when nothing is waiting, or another worker took the flow at the same moment)."""
    try:
        return _claim(ws, worker_id, now or utcnow())
    except IntegrityError:
        return None


def _claim(ws: Workspace, worker_id: str, now: datetime) -> int | None:
    with transaction(ws) as session:
        _requeue_orphans(session, now)
        _queue_due(session, now)
        session.flush()
        statement = (
            select(IntegrationRun)
            .where(IntegrationRun.status == "queued")
            .order_by(col(IntegrationRun.requested_at), col(IntegrationRun.id))
        )
        if session.get_bind().dialect.name == "postgresql":
            statement = statement.with_for_update(skip_locked=True)
        for run in session.exec(statement.limit(20)):
            if session.get(IntegrationLease, run.integration_id) is not None:
                continue
            session.add(
                IntegrationLease(
                    integration_id=run.integration_id,
                    worker_id=worker_id,
                    run_id=run.id,
                    expires_at=now + timedelta(seconds=LEASE_SECONDS),
                )
            )
            run.status = "running"
            run.worker_id = worker_id
            run.started_at = run.started_at or now
            session.add(run)
            session.flush()
            return run.id
    return None


def renew_lease(session: Session, integration_id: int, worker_id: str) -> bool:
    """Extend the lease inside a page's transaction; False if another worker holds it."""
    lease = session.get(IntegrationLease, integration_id)
    if lease is None or lease.worker_id != worker_id:
        return False
    lease.expires_at = utcnow() + timedelta(seconds=LEASE_SECONDS)
    session.add(lease)
    return True


def release_lease(session: Session, integration_id: int, worker_id: str) -> None:
    lease = session.get(IntegrationLease, integration_id)
    if lease is not None and lease.worker_id == worker_id:
        session.delete(lease)


@dataclass(frozen=True)
class RunView:
    """A run as the Runs page shows it."""

    id: int
    integration_id: int
    integration_name: str
    status: str
    trigger: str
    requested_by: str
    requested_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_s: float | None
    records_read: int
    records_written: int
    records_rejected: int
    # left out on purpose: people on the suppression list, people without the consent
    skipped_suppressed: int
    skipped_no_consent: int
    pages: int
    requests: int
    retries: int
    rate_limited: int
    cursor_before: str
    cursor_after: str
    error_message: str
    error_fix: str
    error_whose: str
    cancel_requested: bool


def _view(run: IntegrationRun, names: dict[int, str]) -> RunView:
    duration = None
    if run.started_at and run.finished_at:
        duration = (run.finished_at - run.started_at).total_seconds()
    return RunView(
        id=run.id,
        integration_id=run.integration_id,
        integration_name=names.get(run.integration_id, f"#{run.integration_id}"),
        status=run.status,
        trigger=run.trigger,
        requested_by=run.requested_by,
        requested_at=run.requested_at,
        started_at=run.started_at,
        finished_at=run.finished_at,
        duration_s=duration,
        records_read=run.records_read,
        records_written=run.records_written,
        records_rejected=run.records_rejected,
        skipped_suppressed=run.skipped_suppressed,
        skipped_no_consent=run.skipped_no_consent,
        pages=run.pages,
        requests=run.requests,
        retries=run.retries,
        rate_limited=run.rate_limited,
        cursor_before=run.cursor_before,
        cursor_after=run.cursor_after,
        error_message=run.error_message,
        error_fix=run.error_fix,
        error_whose=run.error_whose,
        cancel_requested=run.cancel_requested,
    )


def list_runs(
    ws: Workspace,
    actor: Actor,
    *,
    integration_id: int | None = None,
    status: str | None = None,
    limit: int = 200,
) -> list[RunView]:
    require(actor, Action.VIEW_REGISTRY)
    with read_session(ws.engine) as session:
        names = {f.id: f.name for f in session.exec(select(Integration))}
        statement = select(IntegrationRun)
        if integration_id is not None:
            statement = statement.where(IntegrationRun.integration_id == integration_id)
        if status:
            statement = statement.where(IntegrationRun.status == status)
        statement = statement.order_by(col(IntegrationRun.id).desc()).limit(limit)
        return [_view(run, names) for run in session.exec(statement)]


def get_run(ws: Workspace, actor: Actor, run_id: int) -> RunView:
    require(actor, Action.VIEW_REGISTRY)
    with read_session(ws.engine) as session:
        run = session.get(IntegrationRun, run_id)
        if run is None:
            raise NotFound(f"Run #{run_id} no longer exists.")
        flow = session.get(Integration, run.integration_id)
        return _view(run, {run.integration_id: flow.name if flow else "?"})


def rejected_records(ws: Workspace, actor: Actor, run_id: int, limit: int = 500) -> list[dict]:
    require(actor, Action.VIEW_REGISTRY)
    with read_session(ws.engine) as session:
        rows = session.exec(
            select(RejectedRecord)
            .where(RejectedRecord.run_id == run_id)
            .order_by(col(RejectedRecord.id))
            .limit(limit)
        )
        return [{"Record": r.record_key, "Stage": r.stage, "Reason": r.reason} for r in rows]
