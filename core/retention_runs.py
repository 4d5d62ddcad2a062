"""Retention runs: applying the policies, once a day by the worker or when a person asks,
and the record of what each run removed.

Rows go in batches of ``BATCH_SIZE``, one transaction each, and the run's row is updated in
that same transaction, so its counts are exactly what is gone even if a later batch fails.
A failure marks the run failed with its message; the next run picks up what is left.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import text, update
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from core import audit
from core.errors import SwitchboardError
from core.permissions import Action, Actor, require
from core.retention import WORKER_ACTOR, managed_domains, policies_for, target_for
from core.retention_targets import BATCH_SIZE
from core.workspace import Workspace, transaction
from db.engine import read_session
from db.governance import RetentionPolicy, RetentionRun
from db.models import utcnow

# any constant: PostgreSQL workers take this lock so only one starts the day's run
_DAILY_LOCK = 7_000_001
INTERRUPTED = "The worker stopped before this run finished; the next run removes what is left."


def _midnight(now: datetime) -> datetime:
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def _ran_today(session: Session, now: datetime) -> bool:
    statement = select(RetentionRun.id).where(
        RetentionRun.trigger == "worker", col(RetentionRun.started_at) >= _midnight(now)
    )
    return session.exec(statement.limit(1)).first() is not None


def retention_due(ws: Workspace, now: datetime | None = None) -> bool:
    """Whether the worker has yet to apply the policies this UTC day (one cheap query)."""
    with read_session(ws.engine) as session:
        return not _ran_today(session, now or utcnow())


def _item(policy: RetentionPolicy, cutoff: datetime, removed: int) -> dict:
    return {
        "policy_id": policy.id,
        "domain": policy.domain,
        "kind": policy.kind,
        "entity": policy.entity,
        "keep_days": policy.keep_days,
        "cutoff": cutoff.isoformat(),
        "removed": removed,
    }


def _execute(ws: Workspace, actor: Actor, run_id: int, now: datetime) -> RetentionRun:
    """Apply every enabled policy in the actor's scope, batch by batch."""
    started = time.monotonic()
    items: list[dict] = []
    try:
        with read_session(ws.engine) as session:
            policies = policies_for(session, actor, enabled_only=True)
        for policy in policies:
            target = target_for(policy, now)
            items.append(_item(policy, target.cutoff, 0))
            while True:
                with transaction(ws) as session:
                    removed = target.remove_batch(session, actor.username)
                    items[-1]["removed"] += removed
                    _progress(session, run_id, items)
                if removed < BATCH_SIZE:
                    break
    except (SwitchboardError, SQLAlchemyError) as exc:
        message = exc.message if isinstance(exc, SwitchboardError) else _store_reason(exc)
        return _finish(ws, actor, run_id, items, now, started, error=message)
    return _finish(ws, actor, run_id, items, now, started)


def _store_reason(exc: SQLAlchemyError) -> str:
    orig = getattr(exc, "orig", None)
    reason = str(orig or exc).strip().splitlines()[0]
    return f"The store refused a deletion: {reason}"


def _progress(session: Session, run_id: int, items: list[dict]) -> None:
    session.execute(
        update(RetentionRun)
        .where(col(RetentionRun.id) == run_id)
        .values(removed_json=json.dumps(items), total_removed=sum(i["removed"] for i in items))
    )


def _finish(
    ws: Workspace,
    actor: Actor,
    run_id: int,
    items: list[dict],
    now: datetime,
    started: float,
    error: str = "",
) -> RetentionRun:
    with transaction(ws) as session:
        run = session.get(RetentionRun, run_id)
        assert run is not None
        run.status = "failed" if error else "succeeded"
        run.error_message = error
        run.finished_at = now + timedelta(seconds=time.monotonic() - started)
        run.removed_json = json.dumps(items)
        run.total_removed = sum(i["removed"] for i in items)
        session.add(run)
        audit.record(
            session,
            actor=actor.username,
            action="apply",
            entity="retention",
            entity_id=run_id,
            summary=f"Retention run #{run_id} removed {run.total_removed} rows"
            + (f" and failed: {error}" if error else ""),
            after={"removed": items, "status": run.status},
        )
        return run


def apply(
    ws: Workspace, actor: Actor, now: datetime | None = None, trigger: str = "manual"
) -> RetentionRun:
    """Apply the enabled policies of the actor's domains now; returns the run's record
    (status "failed" with its message if a deletion failed)."""
    require(actor, Action.MANAGE_RETENTION)
    now = now or utcnow()
    with transaction(ws) as session:
        run = RetentionRun(started_at=now, trigger=trigger, actor=actor.username, status="running")
        session.add(run)
        session.flush()
        run_id = run.id
    assert run_id is not None
    return _execute(ws, actor, run_id, now)


def apply_if_due(ws: Workspace, now: datetime | None = None) -> RetentionRun | None:
    """The worker's daily run: applies every policy as the system, unless a worker already
    did today (UTC). The check and the claim share one transaction, so two workers never
    both run; a run a stopped worker left behind is marked failed."""
    now = now or utcnow()
    actor = Actor.system(WORKER_ACTOR)
    with transaction(ws) as session:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _DAILY_LOCK})
        if _ran_today(session, now):
            return None
        session.execute(
            update(RetentionRun)
            .where(RetentionRun.status == "running", col(RetentionRun.started_at) < _midnight(now))
            .values(status="failed", error_message=INTERRUPTED)
        )
        run = RetentionRun(started_at=now, trigger="worker", actor=actor.username)
        session.add(run)
        session.flush()
        run_id = run.id
    assert run_id is not None
    return _execute(ws, actor, run_id, now)


@dataclass(frozen=True)
class RunView:
    """A run as a person may see it: only the policies of domains they manage."""

    id: int
    started_at: datetime
    finished_at: datetime | None
    trigger: str
    actor: str
    status: str
    error_message: str
    items: list[dict]

    @property
    def total(self) -> int:
        return sum(i["removed"] for i in self.items)


def run_items(run: RetentionRun) -> list[dict]:
    """What the run removed, per policy."""
    return json.loads(run.removed_json or "[]")


def view(run: RetentionRun, domains: list[str] | None = None) -> RunView:
    items = [i for i in run_items(run) if domains is None or i["domain"] in domains]
    return RunView(
        run.id or 0,
        run.started_at,
        run.finished_at,
        run.trigger,
        run.actor,
        run.status,
        run.error_message,
        items,
    )


def list_runs(ws: Workspace, actor: Actor, limit: int = 50) -> list[RunView]:
    """The newest runs first."""
    require(actor, Action.MANAGE_RETENTION)
    scope = managed_domains(actor)
    with read_session(ws.engine) as session:
        statement = select(RetentionRun).order_by(col(RetentionRun.id).desc()).limit(limit)
        return [view(run, scope) for run in session.exec(statement)]
