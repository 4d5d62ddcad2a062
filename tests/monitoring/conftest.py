"""Monitoring fixtures: flows written straight into the store, and synthetic histories."""

from __future__ import annotations

from datetime import datetime, timedelta

from core.workspace import Workspace, transaction
from db.models import ApiCall, Integration, IntegrationRun, System


def add_flows(ws: Workspace, *names: str, frequency: str = "hourly", method: str = "api",
              criticality: str = "high", domain: str = "Marketing") -> list[int]:  # fmt: skip
    """Enabled flows between two systems, without connectors (nothing will run them)."""
    with transaction(ws) as session:
        source = System(name=f"Source {names[0]}", category="crm")
        target = System(name=f"Target {names[0]}", category="warehouse")
        session.add_all([source, target])
        session.flush()
        flows = [
            Integration(name=name, source_system_id=source.id, destination_system_id=target.id,
                        data="Contacts", frequency=frequency, method=method,
                        criticality=criticality, domain=domain)
            for name in names
        ]  # fmt: skip
        session.add_all(flows)
        session.flush()
        return [f.id for f in flows]


def add_run(ws: Workspace, flow_id: int, finished: datetime, records: int,
            status: str = "succeeded", took: timedelta = timedelta(seconds=30)) -> None:  # fmt: skip
    with transaction(ws) as session:
        session.add(
            IntegrationRun(integration_id=flow_id, status=status, requested_at=finished - took,
                           started_at=finished - took, finished_at=finished,
                           records_read=records)
        )  # fmt: skip


def add_calls(ws: Workspace, flow_id: int, at: datetime, latencies: list[float],
              outcome: str = "ok", status: int = 200) -> None:  # fmt: skip
    with transaction(ws) as session:
        session.add_all(
            ApiCall(at=at, integration_id=flow_id, method="GET", host="x", path="/",
                    status=status, latency_ms=ms, outcome=outcome)
            for ms in latencies
        )  # fmt: skip
