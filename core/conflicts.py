"""The review queue: conflicting writes to critical fields, waiting for a person."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select

from core import audit
from core.errors import InputError, NotFound
from core.permissions import Action, Actor, require
from core.workspace import Workspace, transaction
from db.engine import read_session
from db.models import FieldConflict, HubRecord, utcnow


@dataclass(frozen=True)
class ConflictView:
    id: int
    entity: str
    external_key: str
    field: str
    current_value: str
    current_source: str
    current_modified_at: datetime | None
    incoming_value: str
    incoming_source: str
    incoming_modified_at: datetime | None
    status: str
    created_at: datetime


def list_conflicts(ws: Workspace, actor: Actor, status: str = "open") -> list[ConflictView]:
    require(actor, Action.VIEW_REGISTRY)
    with read_session(ws.engine) as session:
        rows = session.exec(
            select(FieldConflict)
            .where(FieldConflict.status == status)
            .order_by(col(FieldConflict.id))
            .limit(500)
        )
        return [
            ConflictView(
                r.id,
                r.entity,
                r.external_key,
                r.field,
                r.current_value,
                r.current_source,
                r.current_modified_at,
                r.incoming_value,
                r.incoming_source,
                r.incoming_modified_at,
                r.status,
                r.created_at,
            )
            for r in rows
        ]


def _parse(text: str):  # noqa: ANN202
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def resolve_conflict(ws: Workspace, actor: Actor, conflict_id: int, take_incoming: bool) -> None:
    """Keep the hub's value, or take the incoming one; audited either way."""
    require(actor, Action.RESOLVE_CONFLICTS)
    with transaction(ws) as session:
        conflict = session.get(FieldConflict, conflict_id)
        if conflict is None:
            raise NotFound(f"Conflict #{conflict_id} no longer exists.")
        if conflict.status != "open":
            raise InputError.one(
                "Conflict", f"#{conflict_id} was already resolved by {conflict.resolved_by}."
            )
        if take_incoming:
            record = session.exec(
                select(HubRecord).where(
                    HubRecord.entity == conflict.entity,
                    HubRecord.external_key == conflict.external_key,
                )
            ).first()
            if record is not None:
                fields = json.loads(record.fields_json)
                provenance = json.loads(record.provenance_json)
                fields[conflict.field] = _parse(conflict.incoming_value)
                provenance[conflict.field] = {
                    "source": conflict.incoming_source,
                    "modified_at": (conflict.incoming_modified_at or utcnow()).isoformat(),
                }
                record.fields_json = json.dumps(fields, default=str, sort_keys=True)
                record.provenance_json = json.dumps(provenance)
                record.updated_at = utcnow()
                session.add(record)
        conflict.status = "took_incoming" if take_incoming else "kept_current"
        conflict.resolved_by = actor.username
        conflict.resolved_at = utcnow()
        session.add(conflict)
        audit.record(
            session,
            actor=actor.username,
            action="resolve",
            entity=f"hub:{conflict.entity}",
            entity_id=conflict.external_key,
            summary=f"{'Took' if take_incoming else 'Kept'} "
            f"{conflict.incoming_source if take_incoming else conflict.current_source}'s value "
            f"of {conflict.field}",
            before={conflict.field: conflict.current_value},
            after={
                conflict.field: conflict.incoming_value if take_incoming else conflict.current_value
            },
        )
