"""The systems a company runs: the nodes of the integration map."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import select

from core import audit
from core.connectors.registry import DOMAINS
from core.errors import FieldProblem, InputError, NotFound
from core.permissions import Action, Actor, require
from core.workspace import Workspace, transaction
from db.engine import read_session
from db.models import Connector, Integration, System, utcnow

CATEGORIES = {
    "crm": "CRM",
    "map": "Marketing automation",
    "analytics": "Analytics",
    "ads": "Ad platform",
    "warehouse": "Warehouse",
    "website": "Website",
    "billing": "Billing",
    "other": "Other",
}


@dataclass(frozen=True)
class SystemInput:
    name: str
    category: str
    vendor: str = ""
    domain: str = "Marketing"
    description: str = ""
    pii_cleared: bool = False


def _public(system: System) -> dict:
    return {
        "name": system.name,
        "category": system.category,
        "vendor": system.vendor,
        "domain": system.domain,
        "description": system.description,
        "pii_cleared": system.pii_cleared,
    }


def _problems(data: SystemInput) -> list[FieldProblem]:
    problems = []
    if not data.name.strip():
        problems.append(FieldProblem("Name", "is empty; name the system (e.g. 'HubSpot CRM')."))
    elif len(data.name.strip()) > 80:
        problems.append(FieldProblem("Name", "is longer than 80 characters; shorten it."))
    if data.category not in CATEGORIES:
        problems.append(FieldProblem("Category", f"must be one of: {', '.join(CATEGORIES)}."))
    if data.domain not in DOMAINS:
        problems.append(FieldProblem("Domain", f"must be one of: {', '.join(DOMAINS)}."))
    return problems


def _submitted_domain(data: SystemInput, current: str | None = None) -> str | None:
    """The domain a form asks for, when it is a real one; an unknown domain is left to
    ``_problems``, which names the field and the choices."""
    return data.domain if data.domain in DOMAINS else current


def create_system(ws: Workspace, actor: Actor, data: SystemInput) -> System:
    """Register a system; the actor must be an editor in the system's domain."""
    require(actor, Action.MANAGE_SYSTEMS, _submitted_domain(data))
    problems = _problems(data)
    with transaction(ws) as session:
        name = data.name.strip()
        if (
            name
            and session.exec(
                select(System.id).where(func.lower(System.name) == name.lower())
            ).first()
        ):
            problems.append(FieldProblem("Name", f"'{name}' already exists; pick another."))
        if problems:
            raise InputError(problems)
        system = System(
            name=name,
            category=data.category,
            vendor=data.vendor.strip(),
            domain=data.domain,
            description=data.description.strip(),
            pii_cleared=data.pii_cleared,
        )
        session.add(system)
        session.flush()
        audit.record(
            session,
            actor=actor.username,
            action="create",
            entity="system",
            entity_id=system.id,
            summary=f"Created system {system.name}",
            after=_public(system),
        )
        return system


def update_system(ws: Workspace, actor: Actor, system_id: int, data: SystemInput) -> System:
    """Change a system. Moving it to another domain takes the right in both domains."""
    require(actor, Action.MANAGE_SYSTEMS)
    problems = _problems(data)
    with transaction(ws) as session:
        system = session.get(System, system_id)
        if system is None:
            raise NotFound(f"System #{system_id} no longer exists.")
        require(actor, Action.MANAGE_SYSTEMS, system.domain)
        require(actor, Action.MANAGE_SYSTEMS, _submitted_domain(data, system.domain))
        name = data.name.strip()
        clash = session.exec(
            select(System.id).where(func.lower(System.name) == name.lower())
        ).first()
        if name and clash not in (None, system_id):
            problems.append(FieldProblem("Name", f"'{name}' already exists; pick another."))
        if problems:
            raise InputError(problems)
        before = _public(system)
        system.name, system.category, system.vendor = name, data.category, data.vendor.strip()
        system.domain, system.description = data.domain, data.description.strip()
        system.pii_cleared, system.updated_at = data.pii_cleared, utcnow()
        session.add(system)
        old, new = audit.changes(before, _public(system))
        audit.record(
            session,
            actor=actor.username,
            action="update",
            entity="system",
            entity_id=system_id,
            summary=f"Updated system {system.name}",
            before=old,
            after=new,
        )
        return system


def delete_system(ws: Workspace, actor: Actor, system_id: int) -> None:
    """Delete a system no flow uses; connectors pointing at it are unlinked, which changes
    them, so the actor needs the right to manage connectors in their domains too."""
    require(actor, Action.MANAGE_SYSTEMS)
    with transaction(ws) as session:
        system = session.get(System, system_id)
        if system is None:
            raise NotFound(f"System #{system_id} no longer exists.")
        require(actor, Action.MANAGE_SYSTEMS, system.domain)
        flows = session.exec(
            select(Integration.name).where(
                (Integration.source_system_id == system_id)
                | (Integration.destination_system_id == system_id)
            )
        ).all()
        if flows:
            raise InputError.one(
                "System",
                f"{system.name} is used by the flows {', '.join(flows)}; delete or change "
                "those first.",
            )
        for connector in session.exec(select(Connector).where(Connector.system_id == system_id)):
            require(actor, Action.MANAGE_CONNECTORS, connector.domain)
            connector.system_id = None
            session.add(connector)
        before = _public(system)
        session.delete(system)
        audit.record(
            session,
            actor=actor.username,
            action="delete",
            entity="system",
            entity_id=system_id,
            summary=f"Deleted system {system.name}",
            before=before,
        )


def list_systems(ws: Workspace, actor: Actor) -> list[System]:
    require(actor, Action.VIEW_REGISTRY)
    with read_session(ws.engine) as session:
        return list(session.exec(select(System).order_by(System.name)))


def get_system(ws: Workspace, actor: Actor, system_id: int) -> System:
    require(actor, Action.VIEW_REGISTRY)
    with read_session(ws.engine) as session:
        system = session.get(System, system_id)
    if system is None:
        raise NotFound(f"System #{system_id} no longer exists.")
    return system
