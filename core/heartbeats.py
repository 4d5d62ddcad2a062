"""Worker heartbeats: each worker says it is alive; the app shows 'worker up / last seen'."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import col, select

from core.workspace import Workspace, transaction
from db.engine import read_session
from db.models import WorkerHeartbeat, utcnow


def beat(ws: Workspace, worker_id: str, hostname: str, pid: int, status: str = "running") -> None:
    """Insert or refresh this worker's heartbeat row."""
    with transaction(ws) as session:
        row = session.get(WorkerHeartbeat, worker_id)
        if row is None:
            row = WorkerHeartbeat(worker_id=worker_id, hostname=hostname, pid=pid)
        row.last_seen_at = utcnow()
        row.status = status
        session.add(row)


@dataclass(frozen=True)
class WorkerStatus:
    up: bool
    last_seen_at: datetime | None
    workers_running: int
    text: str


def worker_status(ws: Workspace, now: datetime | None = None) -> WorkerStatus:
    """Up when a running worker beat within three heartbeat intervals."""
    now = now or utcnow()
    fresh_after = now - timedelta(seconds=3 * ws.settings.heartbeat_seconds)
    with read_session(ws.engine) as session:
        rows = session.exec(
            select(WorkerHeartbeat).order_by(col(WorkerHeartbeat.last_seen_at).desc())
        ).all()
    running = [r for r in rows if r.status == "running" and r.last_seen_at >= fresh_after]
    last = rows[0].last_seen_at if rows else None
    if running:
        text = (
            f"Worker up ({len(running)} running), last seen {_ago(now, running[0].last_seen_at)}."
        )
    elif last:
        text = f"Worker down: last seen {_ago(now, last)} ({rows[0].status})."
    else:
        text = "Worker never started: run 'python -m core.worker'."
    return WorkerStatus(bool(running), last, len(running), text)


def _ago(now: datetime, then: datetime) -> str:
    seconds = int((now - then).total_seconds())
    if seconds < 90:
        return f"{max(seconds, 0)} s ago"
    if seconds < 90 * 60:
        return f"{seconds // 60} min ago"
    return f"{seconds // 3600} h ago"
