"""The registry of flows: source → destination, data, frequency, method.

Every flow is registered here, whoever runs it: API, webhook and ETL flows are run by the
worker; native and JavaScript flows are run by someone else and only watched.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from core import audit
from core.connectors.catalog import Catalog, default_catalog
from core.connectors.registry import DOMAINS
from core.errors import FieldProblem, InputError, NotFound
from core.permissions import Action, Actor, require
from core.scheduling import Schedule, next_run_after, schedule_problems
from core.workspace import Workspace, transaction
from db.engine import read_session
from db.models import (
    Connector,
    FieldMapping,
    Integration,
    IntegrationLease,
    IntegrationRun,
    Reconciliation,
    RejectedRecord,
    SyncState,
    System,
    utcnow,
)

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


SYNC_MODES = {
    "full_refresh": "Full refresh",
    "incremental_append": "Incremental, append",
    "incremental_upsert": "Incremental, upsert (dedupe on primary key)",
}
WRITE_MODES = {"upsert": "Upsert", "update": "Update only", "create": "Create only"}


@dataclass(frozen=True)
class IntegrationInput:
    """What the flow form sends. Source/destination connectors are optional for flows run
    outside Switchboard (native, JavaScript)."""

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
    source_connector_id: int | None = None
    source_stream: str = ""
    destination_connector_id: int | None = None
    destination_stream: str = ""
    write_mode: str = "upsert"
    sync_mode: str = "incremental_upsert"
    every_minutes: int | None = None
    at_time: str = ""
    weekday: int | None = None

    @property
    def schedule(self) -> Schedule:
        return Schedule(self.frequency, self.every_minutes, self.at_time, self.weekday)


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
        "source_connector_id": flow.source_connector_id,
        "source_stream": flow.source_stream,
        "destination_connector_id": flow.destination_connector_id,
        "destination_stream": flow.destination_stream,
        "write_mode": flow.write_mode,
        "sync_mode": flow.sync_mode,
        "every_minutes": flow.every_minutes,
        "at_time": flow.at_time,
        "weekday": flow.weekday,
    }


def _connector_problems(
    session: Session, data: IntegrationInput, catalog: Catalog
) -> list[FieldProblem]:
    """The connector half of a flow: does the stream exist, can the destination write?"""
    problems: list[FieldProblem] = []
    if data.method not in RUN_BY_WORKER:
        return problems
    if data.source_connector_id is None:
        # registered now, runnable once a source connector is chosen
        return problems
    source = session.get(Connector, data.source_connector_id)
    if source is None:
        problems.append(FieldProblem("Source connector", "no longer exists; pick another."))
        return problems
    template = catalog.get(source.template_id)
    if data.method == "webhook":
        if template.direction != "inbound":
            problems.append(
                FieldProblem(
                    "Source connector", "a webhook flow needs an Inbound webhook connector."
                )
            )
        return problems
    streams = {s.name: s for s in template.streams}
    stream = streams.get(data.source_stream)
    if stream is None:
        problems.append(
            FieldProblem(
                "Source stream",
                f"pick one of {template.name}'s streams: {', '.join(streams) or 'none'}.",
            )
        )
    elif data.sync_mode != "full_refresh" and stream.incremental is None:
        problems.append(
            FieldProblem(
                "Sync mode",
                f"the stream '{stream.name}' cannot be read incrementally; use Full refresh.",
            )
        )
    if data.destination_connector_id is not None:
        target = session.get(Connector, data.destination_connector_id)
        if target is None:
            problems.append(FieldProblem("Destination connector", "no longer exists."))
            return problems
        target_template = catalog.get(target.template_id)
        target_stream = next(
            (s for s in target_template.streams if s.name == data.destination_stream), None
        )
        if target_stream is None:
            problems.append(
                FieldProblem(
                    "Destination stream",
                    "pick one of: "
                    + ", ".join(s.name for s in target_template.streams if s.writes),
                )
            )
        elif data.write_mode not in {w.mode for w in target_stream.writes}:
            offered = ", ".join(w.mode for w in target_stream.writes) or "no writes"
            problems.append(
                FieldProblem(
                    "Write mode",
                    f"{target_template.name} '{target_stream.name}' offers only: {offered}.",
                )
            )
    return problems


def mapping_problems(mappings: list[tuple[str, str]]) -> list[FieldProblem]:
    """Every row needs both sides; a destination field is written by one row only."""
    problems = []
    seen: set[str] = set()
    for number, (source, destination) in enumerate(mappings, start=1):
        if not source.strip() and not destination.strip():
            continue
        if not source.strip():
            problems.append(
                FieldProblem(
                    f"Mapping row {number}", "has no source field; fill it or delete the row."
                )
            )
        if not destination.strip():
            problems.append(
                FieldProblem(
                    f"Mapping row {number}",
                    f"maps '{source}' to nothing; name the destination field or delete the row.",
                )
            )
        elif destination.strip() in seen:
            problems.append(
                FieldProblem(
                    f"Mapping row {number}",
                    f"'{destination}' is already written by another row; each destination field "
                    "takes one source.",
                )
            )
        seen.add(destination.strip())
    return problems


def _clean(mappings: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(s.strip(), d.strip()) for s, d in mappings if s.strip() or d.strip()]


def _validate(
    session: Session,
    data: IntegrationInput,
    mappings: list[tuple[str, str]],
    *,
    existing_id: int | None,
    catalog: Catalog,
) -> None:
    """The whole definition, checked before anything is saved; all problems at once."""
    problems = []
    name = data.name.strip()
    if not name:
        problems.append(FieldProblem("Name", "is empty; name the flow."))
    elif session.exec(
        select(Integration.id).where(
            func.lower(Integration.name) == name.lower(), Integration.id != (existing_id or -1)
        )
    ).first():
        problems.append(FieldProblem("Name", f"'{name}' already exists; pick another."))
    if not data.data.strip():
        problems.append(FieldProblem("Data", "is empty; say what the flow carries."))
    if data.frequency not in FREQUENCIES:
        problems.append(FieldProblem("Frequency", f"must be one of: {', '.join(FREQUENCIES)}."))
    else:
        problems.extend(schedule_problems(data.schedule))
    if data.method not in METHODS:
        problems.append(FieldProblem("Method", f"must be one of: {', '.join(METHODS)}."))
    if data.domain not in DOMAINS:
        problems.append(FieldProblem("Domain", f"must be one of: {', '.join(DOMAINS)}."))
    if data.criticality not in CRITICALITIES:
        problems.append(FieldProblem("Criticality", f"must be one of: {', '.join(CRITICALITIES)}."))
    if data.sync_mode not in SYNC_MODES:
        problems.append(FieldProblem("Sync mode", f"must be one of: {', '.join(SYNC_MODES)}."))
    if data.write_mode not in WRITE_MODES:
        problems.append(FieldProblem("Write mode", f"must be one of: {', '.join(WRITE_MODES)}."))
    if data.source_system_id == data.destination_system_id:
        problems.append(FieldProblem("Destination", "must differ from the source."))
    for label, system_id in (
        ("Source", data.source_system_id),
        ("Destination", data.destination_system_id),
    ):
        if session.get(System, system_id) is None:
            problems.append(FieldProblem(label, "no longer exists; pick another system."))
    if data.method in METHODS and data.sync_mode in SYNC_MODES:
        problems.extend(_connector_problems(session, data, catalog))
    problems.extend(mapping_problems(mappings))
    if problems:
        raise InputError(problems)


def _submitted_domain(data: IntegrationInput) -> str | None:
    """The domain a form asks for, when it is a real one; an unknown domain is left to
    ``_validate``, which names the field and the choices."""
    return data.domain if data.domain in DOMAINS else None


def _apply(flow: Integration, data: IntegrationInput) -> None:
    flow.name = data.name.strip()
    flow.source_system_id = data.source_system_id
    flow.destination_system_id = data.destination_system_id
    flow.data = data.data.strip()
    flow.frequency = data.frequency
    flow.method = data.method
    flow.domain = data.domain
    flow.owner = data.owner.strip()
    flow.criticality = data.criticality
    flow.description = data.description.strip()
    flow.enabled = data.enabled
    runs_here = data.method in RUN_BY_WORKER
    flow.source_connector_id = data.source_connector_id if runs_here else None
    flow.source_stream = data.source_stream if runs_here else ""
    flow.destination_connector_id = data.destination_connector_id if runs_here else None
    flow.destination_stream = data.destination_stream if flow.destination_connector_id else ""
    flow.write_mode = data.write_mode
    flow.sync_mode = data.sync_mode
    flow.every_minutes = data.every_minutes if data.frequency == "every_n_minutes" else None
    flow.at_time = data.at_time.strip() if data.frequency in {"daily", "weekly"} else ""
    flow.weekday = data.weekday if data.frequency == "weekly" else None
    flow.updated_at = utcnow()
    flow.next_run_at = next_run_after(data.schedule, utcnow()) if flow.enabled else None


def _save_mappings(session: Session, flow_id: int, mappings: list[tuple[str, str]]) -> None:
    session.execute(delete(FieldMapping).where(FieldMapping.integration_id == flow_id))
    for position, (source, destination) in enumerate(mappings):
        session.add(
            FieldMapping(
                integration_id=flow_id,
                source_field=source,
                destination_field=destination,
                position=position,
            )
        )


def _mapping_list(session: Session, flow_id: int) -> list[tuple[str, str]]:
    return [
        (m.source_field, m.destination_field)
        for m in session.exec(
            select(FieldMapping)
            .where(FieldMapping.integration_id == flow_id)
            .order_by(FieldMapping.position)
        )
    ]


def create_integration(
    ws: Workspace,
    actor: Actor,
    data: IntegrationInput,
    mappings: list[tuple[str, str]] | None = None,
    catalog: Catalog | None = None,
) -> Integration:
    """Register a flow with its field mapping; every problem is reported at once. The
    actor must be an editor in the flow's domain."""
    require(actor, Action.MANAGE_INTEGRATIONS, _submitted_domain(data))
    mappings = mappings or []
    with transaction(ws) as session:
        _validate(session, data, mappings, existing_id=None, catalog=catalog or default_catalog())
        flow = Integration(
            name="", source_system_id=0, destination_system_id=0, data="", frequency="", method=""
        )
        _apply(flow, data)
        session.add(flow)
        session.flush()
        _save_mappings(session, flow.id, _clean(mappings))
        audit.record(
            session,
            actor=actor.username,
            action="create",
            entity="integration",
            entity_id=flow.id,
            summary=f"Created flow {flow.name}",
            after={**_public(flow), "mappings": _clean(mappings)},
        )
        return flow


def update_integration(
    ws: Workspace,
    actor: Actor,
    integration_id: int,
    data: IntegrationInput,
    mappings: list[tuple[str, str]],
    catalog: Catalog | None = None,
) -> Integration:
    """Change a flow and its mapping, validated whole; moving it to another domain needs
    the right in both."""
    require(actor, Action.MANAGE_INTEGRATIONS, _submitted_domain(data))
    with transaction(ws) as session:
        flow = _get(session, integration_id)
        require(actor, Action.MANAGE_INTEGRATIONS, flow.domain)
        _validate(
            session,
            data,
            mappings,
            existing_id=integration_id,
            catalog=catalog or default_catalog(),
        )
        before = {**_public(flow), "mappings": _mapping_list(session, integration_id)}
        _apply(flow, data)
        session.add(flow)
        _save_mappings(session, integration_id, _clean(mappings))
        old, new = audit.changes(before, {**_public(flow), "mappings": _clean(mappings)})
        audit.record(
            session,
            actor=actor.username,
            action="update",
            entity="integration",
            entity_id=integration_id,
            summary=f"Updated flow {flow.name}",
            before=old,
            after=new,
        )
        return flow


def set_enabled(ws: Workspace, actor: Actor, integration_id: int, enabled: bool) -> None:
    """Enable (scheduled from now) or disable (nothing new starts) a flow."""
    require(actor, Action.MANAGE_INTEGRATIONS)
    with transaction(ws) as session:
        flow = _get(session, integration_id)
        require(actor, Action.MANAGE_INTEGRATIONS, flow.domain)
        flow.enabled = enabled
        flow.next_run_at = (
            next_run_after(
                Schedule(flow.frequency, flow.every_minutes, flow.at_time, flow.weekday), utcnow()
            )
            if enabled
            else None
        )
        flow.updated_at = utcnow()
        session.add(flow)
        audit.record(
            session,
            actor=actor.username,
            action="update",
            entity="integration",
            entity_id=integration_id,
            summary=f"{'Enabled' if enabled else 'Disabled'} flow {flow.name}",
            before={"enabled": not enabled},
            after={"enabled": enabled},
        )


def delete_integration(ws: Workspace, actor: Actor, integration_id: int) -> None:
    """Delete a flow, its mapping and its run history."""
    require(actor, Action.MANAGE_INTEGRATIONS)
    with transaction(ws) as session:
        flow = _get(session, integration_id)
        require(actor, Action.MANAGE_INTEGRATIONS, flow.domain)
        running = session.exec(
            select(IntegrationRun.id).where(
                IntegrationRun.integration_id == integration_id,
                IntegrationRun.status == "running",
            )
        ).first()
        if running is not None:
            raise InputError.one(
                "Flow", f"{flow.name} is running (run #{running}); cancel it first."
            )
        before = {**_public(flow), "mappings": _mapping_list(session, integration_id)}
        for table in (FieldMapping, IntegrationLease, SyncState, Reconciliation):
            session.execute(delete(table).where(table.integration_id == integration_id))
        run_ids = select(IntegrationRun.id).where(IntegrationRun.integration_id == integration_id)
        session.execute(delete(RejectedRecord).where(col(RejectedRecord.run_id).in_(run_ids)))
        session.execute(
            delete(IntegrationRun).where(IntegrationRun.integration_id == integration_id)
        )
        session.delete(flow)
        audit.record(
            session,
            actor=actor.username,
            action="delete",
            entity="integration",
            entity_id=integration_id,
            summary=f"Deleted flow {flow.name}",
            before=before,
        )


def _get(session: Session, integration_id: int) -> Integration:
    flow = session.get(Integration, integration_id)
    if flow is None:
        raise NotFound(
            f"Flow #{integration_id} no longer exists.", fix="It was deleted meanwhile; reload."
        )
    return flow


@dataclass(frozen=True)
class IntegrationDetail:
    """A flow as its edit form needs it."""

    flow: Integration
    mappings: list[tuple[str, str]]


def get_integration(ws: Workspace, actor: Actor, integration_id: int) -> IntegrationDetail:
    require(actor, Action.VIEW_REGISTRY)
    with read_session(ws.engine) as session:
        flow = _get(session, integration_id)
        return IntegrationDetail(flow, _mapping_list(session, integration_id))


@dataclass(frozen=True)
class IntegrationRow:
    """A flow as the map's table and the Integrations list show it."""

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
