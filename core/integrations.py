"""The registry of flows: source → destination, data, frequency, method.

Every flow is registered here, whoever runs it: API, webhook and ETL flows are run by the
worker; native and JavaScript flows are run by someone else and only watched.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import select

from core import audit
from core.connectors.registry import DOMAINS
from core.errors import FieldProblem, InputError
from core.permissions import Action, Actor, require
from core.workspace import Workspace, transaction
from db.engine import read_session
from db.models import Integration, System

FREQUENCIES = {
    "real-time": "Real-time",
    "every_n_minutes": "Every N minutes",
    "hourly": "Hourly",
    "daily": "Daily",
    "weekly": "Weekly",
}
METHODS = {
    "api": "API",
    "webhook": "Webhook",
    "etl": "ETL",
    "native": "Native",
    "javascript": "JavaScript",
}
# methods whose data Switchboard's worker moves itself
RUN_BY_WORKER = frozenset({"api", "webhook", "etl"})
CRITICALITIES = ("low", "medium", "high", "critical")


@dataclass(frozen=True)
class IntegrationInput:
    name: str
    source_system_id: int
    destination_system_id: int
    data: str
    frequency: str
    method: str
    domain: str = "Marketing"
    owner: str = ""
    criticality: str = "medium"
    description: str = ""
    enabled: bool = True


@dataclass(frozen=True)
class IntegrationRow:
    """A flow as the map's table shows it."""

    id: int
    name: str
    source: str
    destination: str
    data: str
    frequency: str
    method: str
    domain: str
    owner: str
    criticality: str
    enabled: bool


def _public(flow: Integration) -> dict:
    return {
        "name": flow.name,
        "source_system_id": flow.source_system_id,
        "destination_system_id": flow.destination_system_id,
        "data": flow.data,
        "frequency": flow.frequency,
        "method": flow.method,
        "domain": flow.domain,
        "owner": flow.owner,
        "criticality": flow.criticality,
        "enabled": flow.enabled,
    }


def create_integration(ws: Workspace, actor: Actor, data: IntegrationInput) -> Integration:
    """Register a flow; every problem is reported at once."""
    require(actor, Action.MANAGE_INTEGRATIONS)
    problems = []
    name = data.name.strip()
    if not name:
        problems.append(FieldProblem("Name", "is empty; name the flow."))
    if not data.data.strip():
        problems.append(FieldProblem("Data", "is empty; say what the flow carries."))
    if data.frequency not in FREQUENCIES:
        problems.append(FieldProblem("Frequency", f"must be one of: {', '.join(FREQUENCIES)}."))
    if data.method not in METHODS:
        problems.append(FieldProblem("Method", f"must be one of: {', '.join(METHODS)}."))
    if data.domain not in DOMAINS:
        problems.append(FieldProblem("Domain", f"must be one of: {', '.join(DOMAINS)}."))
    if data.criticality not in CRITICALITIES:
        problems.append(FieldProblem("Criticality", f"must be one of: {', '.join(CRITICALITIES)}."))
    if data.source_system_id == data.destination_system_id:
        problems.append(FieldProblem("Destination", "must differ from the source."))
    with transaction(ws) as session:
        for label, system_id in (
            ("Source", data.source_system_id),
            ("Destination", data.destination_system_id),
        ):
            if session.get(System, system_id) is None:
                problems.append(FieldProblem(label, "no longer exists; pick another system."))
        if (
            name
            and session.exec(
                select(Integration.id).where(func.lower(Integration.name) == name.lower())
            ).first()
        ):
            problems.append(FieldProblem("Name", f"'{name}' already exists; pick another."))
        if problems:
            raise InputError(problems)
        flow = Integration(
            name=name,
            source_system_id=data.source_system_id,
            destination_system_id=data.destination_system_id,
            data=data.data.strip(),
            frequency=data.frequency,
            method=data.method,
            domain=data.domain,
            owner=data.owner.strip(),
            criticality=data.criticality,
            description=data.description.strip(),
            enabled=data.enabled,
        )
        session.add(flow)
        session.flush()
        audit.record(
            session,
            actor=actor.username,
            action="create",
            entity="integration",
            entity_id=flow.id,
            summary=f"Created flow {flow.name}",
            after=_public(flow),
        )
        return flow


def list_integrations(ws: Workspace, actor: Actor) -> list[IntegrationRow]:
    require(actor, Action.VIEW_REGISTRY)
    with read_session(ws.engine) as session:
        systems = {s.id: s.name for s in session.exec(select(System))}
        flows = session.exec(select(Integration).order_by(Integration.id)).all()
    return [
        IntegrationRow(
            id=f.id,
            name=f.name,
            source=systems.get(f.source_system_id, "?"),
            destination=systems.get(f.destination_system_id, "?"),
            data=f.data,
            frequency=FREQUENCIES.get(f.frequency, f.frequency),
            method=METHODS.get(f.method, f.method),
            domain=f.domain,
            owner=f.owner,
            criticality=f.criticality,
            enabled=f.enabled,
        )
        for f in flows
    ]
