"""Carrying out a deletion request: the hub, the suppression list, then every connected
system that can delete a person.

In one transaction the person's hub records, their field conflicts and their consents go,
and they join the suppression list, so no later sync or web form brings them back. Then
each connector whose template declares a delete endpoint gets the deletion through the
gateway (HubSpot's GDPR delete by e-mail, Mailchimp's permanent delete by subscriber
hash). A system that answers 404 no longer holds the person: that counts as done. A system
that fails keeps its reason, the request is partially completed, and "Retry failed
systems" sends to those systems only.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, col, select

from core import audit
from core.connectors.catalog import Catalog, default_catalog
from core.connectors.records import set_value_at
from core.connectors.registry import load_connection
from core.connectors.writer import StreamWriter, refusal_reason
from core.errors import EndpointNotFound, InputError, NotFound, SwitchboardError
from core.gateway import CallContext, Gateway
from core.permissions import Action, Actor, require
from core.pii import email_hint, open_text, webhook_aad
from core.privacy import RequestView, pending_result, view
from core.privacy_targets import deletion_endpoint, domains_of, locate
from core.vault import Sealed
from core.workspace import Workspace, transaction
from db.engine import read_session
from db.governance import Consent, PrivacyRequest, Suppression
from db.models import FieldConflict, HubRecord, WebhookEvent, utcnow

DONE = ("ok", "not_found")
# how the writer words a record the vendor does not know (a 404 on a path naming it)
_WRITER_NOT_FOUND = "not found at the vendor"


def _locked(session: Session, request_id: int, *, lock: bool = True) -> PrivacyRequest:
    request = session.get(PrivacyRequest, request_id, with_for_update=lock)
    if request is None:
        raise NotFound(f"Privacy request #{request_id} does not exist.", fix="Reload the page.")
    return request


def execute_request(
    ws: Workspace,
    actor: Actor,
    request_id: int,
    gateway: Gateway,
    *,
    catalog: Catalog | None = None,
) -> RequestView:
    """Delete the person everywhere Switchboard reaches; the request as it ends."""
    require(actor, Action.HANDLE_PRIVACY_REQUESTS)
    catalog = catalog or default_catalog()
    with transaction(ws) as session:
        request = _locked(session, request_id)
        if request.status != "received":
            raise InputError.one(
                "Request",
                f"#{request_id} was already executed (it is {request.status.replace('_', ' ')}); "
                "use Retry failed systems for the systems that failed.",
            )
        located = locate(session, request.email_digest, catalog)
        # a domain lead deletes only where they lead; reaching into other domains takes an
        # admin (or the leads of those domains)
        for domain in sorted(domains_of(session, located)):
            require(actor, Action.HANDLE_PRIVACY_REQUESTS, domain)
        results = json.loads(request.results_json)
        known = {r["connector_id"] for r in results}
        results += [pending_result(t) for t in located.targets if t.connector_id not in known]
        removed = _erase(session, request, located.rows)
        removed["web forms"] = _erase_forms(ws, session, request)
        request.status = "in_progress"
        request.hub_records_deleted = len(located.rows)
        request.results_json = json.dumps(results)
        session.add(request)
        audit.record(
            session,
            actor=actor.username,
            action="delete",
            entity="privacy_request",
            entity_id=request_id,
            summary=f"Privacy request #{request_id}: deleted {len(located.rows)} hub records, "
            f"{removed['conflicts']} field conflicts and {removed['consents']} consents; the "
            "person is on the suppression list",
            after={"hub_records": len(located.rows), **removed},
        )
    return _send_and_finish(ws, actor, request_id, gateway, catalog)


def retry_failed(
    ws: Workspace,
    actor: Actor,
    request_id: int,
    gateway: Gateway,
    *,
    catalog: Catalog | None = None,
) -> RequestView:
    """Send the deletion again to the systems that failed (or were never reached)."""
    require(actor, Action.HANDLE_PRIVACY_REQUESTS)
    with read_session(ws.engine) as session:
        request = _locked(session, request_id, lock=False)
        if request.status not in ("partially_completed", "in_progress"):
            said = {"received": "has not been executed yet; execute it first"}.get(
                request.status, f"is {request.status.replace('_', ' ')}; nothing failed"
            )
            raise InputError.one("Request", f"#{request_id} {said}.")
    return _send_and_finish(ws, actor, request_id, gateway, catalog or default_catalog())


def _erase(session: Session, request: PrivacyRequest, rows: list[HubRecord]) -> dict[str, int]:
    """The person's hub records, their field conflicts and consents go; they are suppressed."""
    conflicts = 0
    for row in rows:
        conflicts += session.execute(
            delete(FieldConflict).where(
                FieldConflict.entity == row.entity, FieldConflict.external_key == row.external_key
            )
        ).rowcount
        session.delete(row)
    consents = session.execute(
        delete(Consent).where(Consent.email_digest == request.email_digest)
    ).rowcount
    suppressed = session.exec(
        select(Suppression).where(Suppression.email_digest == request.email_digest)
    ).first()
    if suppressed is None:
        session.add(Suppression(email_digest=request.email_digest, request_id=request.id))
    return {"conflicts": conflicts, "consents": consents}


def _erase_forms(ws: Workspace, session: Session, request: PrivacyRequest) -> int:
    """Web-form events already handled whose stored body names the person (bodies are
    sealed, so each is opened to look)."""
    email = ws.vault.open(
        Sealed(request.email_nonce, request.email_ciphertext, request.email_key_id),
        f"privacy_request:{request.email_digest}",
    ).casefold()
    gone = []
    for event_id, body in session.exec(
        select(WebhookEvent.id, WebhookEvent.body).where(WebhookEvent.status != "pending")
    ):
        if email in open_text(ws.vault, webhook_aad(event_id), body).casefold():
            gone.append(event_id)
    if gone:
        session.execute(delete(WebhookEvent).where(col(WebhookEvent.id).in_(gone)))
    return len(gone)


def _send_and_finish(
    ws: Workspace, actor: Actor, request_id: int, gateway: Gateway, catalog: Catalog
) -> RequestView:
    with read_session(ws.engine) as session:
        request = _locked(session, request_id, lock=False)
        digest = request.email_digest
        email = ws.vault.open(
            Sealed(request.email_nonce, request.email_ciphertext, request.email_key_id),
            f"privacy_request:{digest}",
        )
        results = json.loads(request.results_json)
    for result in results:
        if result["status"] not in DONE:
            status, detail = send_deletion(ws, gateway, result["connector_id"], email, catalog)
            result["status"], result["detail"] = status, _scrubbed(detail, email)
    return _finish(ws, actor, request_id, results)


def send_deletion(
    ws: Workspace, gateway: Gateway, connector_id: int, email: str, catalog: Catalog
) -> tuple[str, str]:
    """Ask one connected system to delete the person: (ok | not_found | failed, detail)."""
    try:
        connection = load_connection(ws, connector_id, catalog)
    except SwitchboardError as exc:
        return "failed", f"the connector cannot be used: {exc}"
    found = deletion_endpoint(connection.template)
    if found is None:
        return "failed", f"{connection.template.name} declares no delete endpoint any more."
    stream, endpoint = found
    record: dict[str, Any] = {}
    set_value_at(record, endpoint.match_field or "email", email)
    writer = StreamWriter(gateway, connection, stream, "delete", context=CallContext())
    try:
        result = writer.write([record])
    except EndpointNotFound as exc:
        return "not_found", f"the vendor does not hold this person ({refusal_reason(exc)})"
    except SwitchboardError as exc:
        return "failed", str(exc)
    except Exception as exc:  # one system's surprise must not lose the others' results
        return "failed", f"Switchboard could not send it ({type(exc).__name__}); retry later."
    if result.written:
        return "ok", "deleted"
    reason = result.rejected[0][1] if result.rejected else "the vendor did not confirm"
    if reason.startswith(_WRITER_NOT_FOUND):
        return "not_found", f"the vendor does not hold this person ({reason})"
    return "failed", reason


def _scrubbed(detail: str, email: str) -> str:
    """A vendor's words may quote the e-mail; results keep only its hint."""
    lowered = detail.lower()
    needle = email.lower()
    while needle in lowered:
        at = lowered.index(needle)
        detail = detail[:at] + email_hint(email) + detail[at + len(needle) :]
        lowered = detail.lower()
    return detail[:500]


def _finish(
    ws: Workspace, actor: Actor, request_id: int, results: list[dict[str, Any]]
) -> RequestView:
    with transaction(ws) as session:
        request = _locked(session, request_id)
        done = all(r["status"] in DONE for r in results)
        request.results_json = json.dumps(results)
        request.status = "completed" if done else "partially_completed"
        request.completed_at = utcnow() if done else None
        session.add(request)
        said = "; ".join(f"{r['connector']}: {r['status'].replace('_', ' ')}" for r in results)
        audit.record(
            session,
            actor=actor.username,
            action="update",
            entity="privacy_request",
            entity_id=request_id,
            summary=f"Privacy request #{request_id} {request.status.replace('_', ' ')}"
            + (f" ({said})" if said else ""),
            after={
                "status": request.status,
                "systems": {r["connector"]: r["status"] for r in results},
            },
        )
        return view(request)
