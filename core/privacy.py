"""Deletion requests (GDPR art. 17, CCPA right to delete): find a person by e-mail across
the hub, record their request with its legal deadline, and follow requests to the end.

Carrying a request out (the hub, the suppression list, the connected systems) lives in
``core/privacy_delete.py``; where a person is held, in ``core/privacy_targets.py``.

A request never stores the e-mail in the clear: it keeps the keyed digest (to find the
person's records, consents and suppression), a sealed copy (vendors know people by e-mail)
and a hint for lists (``j•••@example.com``). The audit trail names requests by number only.
The legal deadlines are counted in ``core/privacy_deadlines.py``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from core import audit
from core.connectors.catalog import Catalog, default_catalog
from core.errors import FieldProblem, InputError, NotFound
from core.permissions import Action, Actor, require
from core.pii import email_digest, email_hint, mask_value, normalise_email, open_values, reveal
from core.privacy_deadlines import aware, due_date, timeliness
from core.privacy_targets import DeletionTarget, locate
from core.workspace import Workspace, transaction
from db.engine import read_session
from db.governance import PrivacyRequest, Suppression
from db.models import HubRecord, utcnow

REGULATIONS = {"gdpr": "GDPR (one month)", "ccpa": "CCPA (45 days)"}
STATUSES = {
    "received": "received",
    "in_progress": "in progress",
    "completed": "completed",
    "partially_completed": "partially completed",
    "failed": "failed",
}
OPEN = ("received", "in_progress", "partially_completed")
PLACE = "Privacy requests"


# -- finding a person -------------------------------------------------------------------------


@dataclass(frozen=True)
class FoundRecord:
    """One hub record that holds the person, as the actor may see it."""

    entity: str
    key: str
    systems: tuple[str, ...]
    values: dict[str, Any]


@dataclass(frozen=True)
class PersonFound:
    email_hint: str
    records: list[FoundRecord]
    targets: list[DeletionTarget]


def checked_email(email: Any) -> str:
    """The e-mail as compared everywhere, or an InputError naming the field and the fix."""
    text = normalise_email(email)
    if text is None:
        shown = str(email or "").strip()
        said = f"'{shown}' is not" if shown else "is empty; enter"
        raise InputError.one(
            "E-mail",
            f"{said} an e-mail address; enter the person's address whole, like name@example.com.",
        )
    return text


def refuse_if_deleted(session: Session, digest: str) -> None:
    """A person already deleted is on the suppression list: say by which request."""
    row = session.exec(select(Suppression).where(Suppression.email_digest == digest)).first()
    if row is None:
        return
    request = session.get(PrivacyRequest, row.request_id) if row.request_id else None
    when = aware(request.received_at if request else row.created_at).date().isoformat()
    number = f"request #{request.id}" if request else "an earlier request"
    raise InputError.one(
        "E-mail",
        f"this person was already deleted by {number} of {when} and is on the suppression "
        "list; nothing is left to delete. Open that request to see what was done.",
    )


def _unknown() -> InputError:
    return InputError.one(
        "E-mail",
        "no record in the hub holds this e-mail; check the spelling, or run the flows that "
        "bring this person into the hub first (only what the hub holds can be found).",
    )


def _shown(ws: Workspace, actor: Actor, row: HubRecord, systems: list[str]) -> FoundRecord:
    """A record with its personal data masked unless the actor may see it (then logged)."""
    provenance = json.loads(row.provenance_json)
    values = json.loads(row.fields_json)
    values.update(
        open_values(
            ws.vault,
            row.entity,
            row.external_key,
            row.pii_nonce,
            row.pii_ciphertext,
            row.pii_key_id,
        )
    )
    pii = {name: p["pii"] for name, p in provenance.items() if p.get("pii")}
    [shown] = reveal(ws, actor, place=PLACE, entity=row.entity, rows=[values], pii=pii)
    key = row.external_key
    if "@" in key and not actor.may(Action.VIEW_PII, next(iter(pii.values()), None)):
        key = mask_value(key)
    return FoundRecord(row.entity, key, tuple(systems), shown)


def find_person(
    ws: Workspace, actor: Actor, email: str, catalog: Catalog | None = None
) -> PersonFound:
    """Every hub record holding this e-mail, the systems holding each, and the connected
    systems a deletion will be sent to."""
    require(actor, Action.HANDLE_PRIVACY_REQUESTS)
    text = checked_email(email)
    digest = email_digest(ws, text)
    with read_session(ws.engine) as session:
        refuse_if_deleted(session, digest)
        located = locate(session, digest, catalog or default_catalog())
    if not located.rows:
        raise _unknown()
    records = [_shown(ws, actor, row, located.systems[row.id]) for row in located.rows]
    return PersonFound(email_hint(text), records, located.targets)


# -- requests ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestView:
    """A request as the page lists it."""

    id: int
    email_hint: str
    regulation: str
    status: str
    received_at: datetime
    due_at: datetime
    completed_at: datetime | None
    requested_by: str
    found: list[dict[str, Any]]
    results: list[dict[str, Any]]
    hub_records_deleted: int
    deadline: str

    @property
    def failed_systems(self) -> list[str]:
        return [r["system"] for r in self.results if r["status"] in ("failed", "pending")]


def view(request: PrivacyRequest, now: datetime | None = None) -> RequestView:
    completed = aware(request.completed_at) if request.completed_at else None
    return RequestView(
        id=request.id,
        email_hint=request.email_hint,
        regulation=request.regulation,
        status=request.status,
        received_at=aware(request.received_at),
        due_at=aware(request.due_at),
        completed_at=completed,
        requested_by=request.requested_by,
        found=json.loads(request.found_json),
        results=json.loads(request.results_json),
        hub_records_deleted=request.hub_records_deleted,
        deadline=timeliness(request.due_at, completed, now or utcnow()),
    )


def pending_result(target: DeletionTarget) -> dict[str, Any]:
    return {
        "connector_id": target.connector_id,
        "connector": target.connector,
        "system": target.system,
        "status": "pending",
        "detail": "",
    }


def create_request(
    ws: Workspace,
    actor: Actor,
    email: str,
    regulation: str,
    *,
    catalog: Catalog | None = None,
    now: datetime | None = None,
) -> RequestView:
    """Record a person's request to be deleted, with its legal deadline."""
    require(actor, Action.HANDLE_PRIVACY_REQUESTS)
    problems = []
    if regulation not in REGULATIONS:
        problems.append(FieldProblem("Regulation", "must be GDPR or CCPA; pick one."))
    try:
        found = find_person(ws, actor, email, catalog)
    except InputError as exc:
        raise InputError(exc.problems + problems) from None
    if problems:
        raise InputError(problems)
    text = checked_email(email)
    digest = email_digest(ws, text)
    sealed = ws.vault.seal(text, f"privacy_request:{digest}")
    received = now or utcnow()
    with transaction(ws) as session:
        refuse_if_deleted(session, digest)
        _refuse_if_open(session, digest)
        request = PrivacyRequest(
            email_digest=digest,
            email_nonce=sealed.nonce,
            email_ciphertext=sealed.ciphertext,
            email_key_id=sealed.key_id,
            email_hint=found.email_hint,
            regulation=regulation,
            received_at=received,
            due_at=due_date(regulation, received),
            requested_by=actor.username,
            found_json=json.dumps(
                [
                    {
                        "entity": r.entity,
                        "key": mask_value(r.key) if "@" in r.key else r.key,
                        "systems": list(r.systems),
                    }
                    for r in found.records
                ]
            ),
            results_json=json.dumps([pending_result(t) for t in found.targets]),
        )
        session.add(request)
        session.flush()
        audit.record(
            session,
            actor=actor.username,
            action="create",
            entity="privacy_request",
            entity_id=request.id,
            summary=f"Privacy request #{request.id} ({regulation.upper()}) received: "
            f"{len(found.records)} hub records, {len(found.targets)} systems to delete from; "
            f"due {request.due_at.date().isoformat()}",
            after={
                "regulation": regulation,
                "due_at": request.due_at.isoformat(),
                "records": len(found.records),
                "systems": [t.system for t in found.targets],
            },
        )
        return view(request, received)


def _refuse_if_open(session: Session, digest: str) -> None:
    open_one = session.exec(
        select(PrivacyRequest).where(
            PrivacyRequest.email_digest == digest, col(PrivacyRequest.status).in_(OPEN)
        )
    ).first()
    if open_one is not None:
        raise InputError.one(
            "E-mail",
            f"request #{open_one.id} of {aware(open_one.received_at).date().isoformat()} for "
            "this person is still open; execute it (or retry its failed systems) instead of "
            "opening another.",
        )


def list_requests(ws: Workspace, actor: Actor, now: datetime | None = None) -> list[RequestView]:
    """Every request, newest first, with how it stands against its deadline."""
    require(actor, Action.HANDLE_PRIVACY_REQUESTS)
    with read_session(ws.engine) as session:
        rows = session.exec(select(PrivacyRequest).order_by(col(PrivacyRequest.id).desc())).all()
    return [view(r, now) for r in rows]


def get_request(ws: Workspace, actor: Actor, request_id: int) -> RequestView:
    require(actor, Action.HANDLE_PRIVACY_REQUESTS)
    with read_session(ws.engine) as session:
        request = session.get(PrivacyRequest, request_id)
    if request is None:
        raise NotFound(f"Privacy request #{request_id} does not exist.", fix="Reload the page.")
    return view(request)
