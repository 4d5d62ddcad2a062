"""The review queue: conflicting writes to critical fields, waiting for a person.

A conflict on a personal-data field keeps both values sealed (``sealed:...``, AAD
``conflict:<entity>:<key>:<field>``). Listing opens them and masks them for people without
the PII permission of the field's domain; an unmasked view is written to the access log.
Taking the incoming value puts it back into the record's sealed fields, never in the clear.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from core import audit
from core.errors import InputError, NotFound
from core.hub_read import personal_fields
from core.permissions import Action, Actor, require
from core.pii import (
    MASK,
    PiiFields,
    conflict_aad,
    digester,
    is_sealed_text,
    log_access,
    mask_value,
    open_text,
    open_values,
    pii_fields_for,
    seal_values,
)
from core.workspace import Workspace, transaction
from db.engine import read_session
from db.models import FieldConflict, HubRecord, Integration, IntegrationRun, utcnow

PLACE = "Review queue"
# the domain of a conflict no flow's run brought (written by hand or by an older version)
DEFAULT_DOMAIN = "Marketing"


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
    # the domain of the flow whose run met the conflict: who may resolve it
    flow_domain: str = DEFAULT_DOMAIN
    # the domain whose personal data the field is, or "" for an ordinary field
    pii_domain: str = ""
    # the values are masked for the person reading
    masked: bool = False


def _flow_domains(session: Session, run_ids: set[int]) -> dict[int, str]:
    if not run_ids:
        return {}
    rows = session.exec(
        select(IntegrationRun.id, Integration.domain)
        .join(Integration, col(Integration.id) == col(IntegrationRun.integration_id))
        .where(col(IntegrationRun.id).in_(run_ids))
    )
    return dict(rows.all())


def _pii_domains(session: Session, sealed: list[FieldConflict]) -> dict[tuple[str, str], dict]:
    """The personal fields (name → domain) of the records the sealed conflicts belong to."""
    keys: dict[str, set[str]] = defaultdict(set)
    for c in sealed:
        keys[c.entity].add(c.external_key)
    found = {}
    for entity, wanted in keys.items():
        for key, provenance in session.exec(
            select(HubRecord.external_key, HubRecord.provenance_json).where(
                HubRecord.entity == entity, col(HubRecord.external_key).in_(wanted)
            )
        ):
            found[(entity, key)] = personal_fields(json.loads(provenance))
    return found


def _opened(ws: Workspace, c: FieldConflict, text: str) -> str:
    return open_text(ws.vault, conflict_aad(c.entity, c.external_key, c.field), text)


def list_conflicts(ws: Workspace, actor: Actor, status: str = "open") -> list[ConflictView]:
    """The conflicts with ``status``, oldest first; personal data masked unless ``actor``
    may see it, and each unmasked view written to the access log."""
    require(actor, Action.VIEW_REGISTRY)
    with read_session(ws.engine) as session:
        rows = session.exec(
            select(FieldConflict)
            .where(FieldConflict.status == status)
            .order_by(col(FieldConflict.id))
            .limit(500)
        ).all()
        flows = _flow_domains(session, {r.run_id for r in rows if r.run_id is not None})
        sealed = [r for r in rows if is_sealed_text(r.current_value + r.incoming_value)]
        personal = _pii_domains(session, sealed)
    sealed_ids = {r.id for r in sealed}
    views = []
    for r in rows:
        flow_domain = flows.get(r.run_id, DEFAULT_DOMAIN) if r.run_id else DEFAULT_DOMAIN
        pii_domain = ""
        if r.id in sealed_ids:
            pii_domain = personal.get((r.entity, r.external_key), {}).get(r.field, flow_domain)
        views.append(_view(ws, actor, r, flow_domain, pii_domain))
    _log_unmasked(ws, actor, views)
    return views


def _view(
    ws: Workspace, actor: Actor, r: FieldConflict, flow_domain: str, pii_domain: str
) -> ConflictView:
    """A conflict as ``actor`` may see it: sealed values opened, masked without the PII
    permission of ``pii_domain``."""
    current, incoming, masked = r.current_value, r.incoming_value, False
    if pii_domain:
        current, incoming = _opened(ws, r, current), _opened(ws, r, incoming)
        masked = not actor.may(Action.VIEW_PII, pii_domain)
        if masked:
            current, incoming = mask_value(current), mask_value(incoming)
    return ConflictView(
        r.id,
        r.entity,
        r.external_key,
        r.field,
        current,
        r.current_source,
        r.current_modified_at,
        incoming,
        r.incoming_source,
        r.incoming_modified_at,
        r.status,
        r.created_at,
        flow_domain,
        pii_domain,
        masked,
    )


def _log_unmasked(ws: Workspace, actor: Actor, views: list[ConflictView]) -> None:
    """One access-log entry per domain and entity of the personal values shown unmasked."""
    shown: dict[tuple[str, str], list[ConflictView]] = defaultdict(list)
    for view in views:
        if view.pii_domain and not view.masked:
            shown[(view.pii_domain, view.entity)].append(view)
    for (domain, entity), seen in shown.items():
        log_access(
            ws,
            actor,
            place=PLACE,
            kind="view",
            domain=domain,
            entity=entity,
            fields={v.field for v in seen},
            record_count=len({v.external_key for v in seen}),
        )


def _parse(text: str):  # noqa: ANN202
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


@dataclass(frozen=True)
class _Decision:
    """What resolving a conflict needs to know before its transaction."""

    flow_domain: str
    pii: PiiFields
    sealed: bool
    incoming: Any
    # the e-mail digest, its key read before the write transaction holds the lock
    digest: Callable[[Any], str | None] | None


def _prepare(ws: Workspace, conflict_id: int) -> _Decision:
    with read_session(ws.engine) as session:
        conflict = session.get(FieldConflict, conflict_id)
        if conflict is None:
            raise NotFound(f"Conflict #{conflict_id} no longer exists.")
        flow = None
        if conflict.run_id is not None:
            run = session.get(IntegrationRun, conflict.run_id)
            flow = session.get(Integration, run.integration_id) if run else None
        pii = pii_fields_for(session, flow.destination_system_id if flow else None)
    sealed = is_sealed_text(conflict.incoming_value)
    return _Decision(
        flow_domain=flow.domain if flow else DEFAULT_DOMAIN,
        pii=pii,
        sealed=sealed,
        incoming=_parse(_opened(ws, conflict, conflict.incoming_value)),
        digest=digester(ws) if sealed else None,
    )


def _take_incoming(
    ws: Workspace, session: Session, conflict: FieldConflict, decision: _Decision
) -> bool:
    """Write the incoming value into the hub record; into its sealed fields when the field
    is personal data. Whether the field is personal data."""
    record = session.exec(
        select(HubRecord).where(
            HubRecord.entity == conflict.entity, HubRecord.external_key == conflict.external_key
        )
    ).first()
    if record is None:
        return decision.sealed
    provenance = json.loads(record.provenance_json)
    domain = provenance.get(conflict.field, {}).get("pii") or (
        decision.flow_domain if decision.sealed else ""
    )
    provenance[conflict.field] = {
        "source": conflict.incoming_source,
        "modified_at": (conflict.incoming_modified_at or utcnow()).isoformat(),
        **({"pii": domain} if domain else {}),
    }
    plain = json.loads(record.fields_json)
    if domain:
        personal = open_values(
            ws.vault,
            record.entity,
            record.external_key,
            record.pii_nonce,
            record.pii_ciphertext,
            record.pii_key_id,
        )
        personal[conflict.field] = decision.incoming
        plain.pop(conflict.field, None)
        sealed = seal_values(ws.vault, record.entity, record.external_key, personal)
        record.pii_nonce, record.pii_ciphertext = sealed.nonce, sealed.ciphertext
        record.pii_key_id = sealed.key_id
        if decision.digest is not None:
            record.email_digest = decision.digest(decision.pii.email_of({**plain, **personal}))
    else:
        plain[conflict.field] = decision.incoming
    record.fields_json = json.dumps(plain, default=str, sort_keys=True)
    record.provenance_json = json.dumps(provenance)
    record.updated_at = utcnow()
    session.add(record)
    return bool(domain)


def resolve_conflict(ws: Workspace, actor: Actor, conflict_id: int, take_incoming: bool) -> None:
    """Keep the hub's value, or take the incoming one; audited either way (a personal
    value as ``•••``). Needs the right to resolve conflicts in the domain of the flow whose
    run met the conflict."""
    require(actor, Action.RESOLVE_CONFLICTS)
    decision = _prepare(ws, conflict_id)
    require(actor, Action.RESOLVE_CONFLICTS, decision.flow_domain)
    with transaction(ws) as session:
        conflict = session.get(FieldConflict, conflict_id)
        if conflict is None:
            raise NotFound(f"Conflict #{conflict_id} no longer exists.")
        if conflict.status != "open":
            raise InputError.one(
                "Conflict", f"#{conflict_id} was already resolved by {conflict.resolved_by}."
            )
        personal = decision.sealed
        if take_incoming:
            personal = _take_incoming(ws, session, conflict, decision) or personal
        conflict.status = "took_incoming" if take_incoming else "kept_current"
        conflict.resolved_by = actor.username
        conflict.resolved_at = utcnow()
        session.add(conflict)
        before = MASK if personal else conflict.current_value
        after = MASK if personal else conflict.incoming_value
        audit.record(
            session,
            actor=actor.username,
            action="resolve",
            entity=f"hub:{conflict.entity}",
            entity_id=conflict.external_key,
            summary=f"{'Took' if take_incoming else 'Kept'} "
            f"{conflict.incoming_source if take_incoming else conflict.current_source}'s value "
            f"of {conflict.field}",
            before={conflict.field: before},
            after={conflict.field: after if take_incoming else before},
        )
