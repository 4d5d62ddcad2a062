"""The call log: every outbound attempt the gateway reports, written to ``api_calls``.

The gateway reports to ``CallLog.record`` (thread-safe, in memory); the sync engine
flushes the buffer inside each page's transaction, and the worker flushes the rest
(Test connection, webhooks deliveries) on its heartbeat.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, time

from sqlalchemy import func
from sqlmodel import Session, col, select

from core.connectors.catalog import default_catalog
from core.errors import SwitchboardError
from core.gateway import CallRecord
from core.permissions import Action, Actor, require
from core.workspace import Workspace, transaction
from db.engine import read_session
from db.models import ApiCall, Connector


class CallLog:
    def __init__(self, limit: int = 100_000) -> None:
        self._pending: list[CallRecord] = []
        self._lock = threading.Lock()
        # past this many unflushed calls the oldest are dropped, so memory stays bounded
        self._limit = limit

    def record(self, call: CallRecord) -> None:
        with self._lock:
            if len(self._pending) >= self._limit:
                self._pending.pop(0)
            self._pending.append(call)

    def flush(self, session: Session) -> int:
        """Write the buffered calls in the caller's transaction; returns how many."""
        with self._lock:
            pending, self._pending = self._pending, []
        if pending:
            session.add_all(
                ApiCall(
                    at=c.at,
                    connector_id=c.connector_id,
                    integration_id=c.integration_id,
                    run_id=c.run_id,
                    method=c.method,
                    host=c.host[:200],
                    path=c.path,
                    status=c.status,
                    latency_ms=c.latency_ms,
                    attempt=c.attempt,
                    outcome=c.outcome,
                )
                for c in pending
            )
        return len(pending)


def calls_today(session: Session, connector_id: int, now: datetime | None = None) -> int:
    """How many calls a connector made since midnight UTC: its daily quota use."""
    now = now or datetime.now(UTC)
    midnight = datetime.combine(now.date(), time.min, tzinfo=UTC)
    return session.exec(
        select(func.count(ApiCall.id)).where(
            ApiCall.connector_id == connector_id, ApiCall.at >= midnight
        )
    ).one()


def quota_use_today(ws: Workspace, actor: Actor, now: datetime | None = None) -> dict[int, str]:
    """Per connector: calls made today, against the vendor's daily quota when it has one."""
    require(actor, Action.VIEW_REGISTRY)
    now = now or datetime.now(UTC)
    midnight = datetime.combine(now.date(), time.min, tzinfo=UTC)
    catalog = default_catalog()
    with read_session(ws.engine) as session:
        counts = dict(
            session.exec(
                select(ApiCall.connector_id, func.count(ApiCall.id))
                .where(ApiCall.at >= midnight, col(ApiCall.connector_id).is_not(None))
                .group_by(ApiCall.connector_id)
            ).all()
        )
        templates = dict(session.exec(select(Connector.id, Connector.template_id)).all())
    usage = {}
    for connector_id, template_id in templates.items():
        used = counts.get(connector_id, 0)
        try:
            quota = catalog.get(template_id).daily_quota
        except SwitchboardError:
            quota = None
        usage[connector_id] = (
            f"{used:,} of {quota:,} ({used / quota:.0%})" if quota else f"{used:,}"
        )
    return usage


def direct_recorder(ws: Workspace) -> Callable[[CallRecord], None]:
    """A recorder that stores each call at once: for the app, whose calls are rare
    (Test connection, Preview) and which has no flush loop."""

    def record(call: CallRecord) -> None:
        log = CallLog()
        log.record(call)
        with transaction(ws) as session:
            log.flush(session)

    return record
