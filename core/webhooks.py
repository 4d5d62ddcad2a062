"""Inbound webhooks: the worker's HTTP endpoint for real-time flows (website form → CRM).

``POST /webhooks/<connector id>`` with a JSON body and the header
``X-Switchboard-Signature: sha256=<hex HMAC-SHA256 of the raw body with the connector's
signing secret>``. The event is stored durably before the 2xx answer; then it is delivered
to every enabled webhook flow whose source is that connector: mapped, validated, passed
through the same gate as a sync (a person on the suppression list is left out, consent the
flow carries is recorded, a purpose it requires is enforced), upserted into the hub with its
personal data sealed, and pushed to the flow's destination. Each event's delay from arrival
to the hub is recorded. The stored body holds e-mails, so it is sealed at rest.

An event's status: pending, delivered, rejected (no record could be taken) or left_out
(every record was left out by the gate; ``error`` says why).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sqlmodel import col, select

from core.connectors.registry import load_connection
from core.connectors.writer import StreamWriter
from core.errors import SwitchboardError
from core.gateway import CallContext, Gateway
from core.pii import digester, open_text, pii_fields_for, scrub, seal_text, webhook_aad
from core.sync.gate import PURPOSES, GateOutcome, RecordGate, consent_sources
from core.sync.hub import IncomingRecord, PiiGuard, upsert_records
from core.sync.mapping import apply_mapping, get_path
from core.sync.validation import field_specs_for, record_problems
from core.workspace import Workspace, transaction
from db.engine import read_session
from db.models import Connector, FieldMapping, Integration, System, WebhookEvent, utcnow

log = logging.getLogger("switchboard.webhooks")
SIGNATURE_HEADER = "X-Switchboard-Signature"
MAX_BODY_BYTES = 1_000_000


def sign(secret: str, body: bytes) -> str:
    """The signature a sender puts in ``X-Switchboard-Signature``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Receipt:
    status: int
    message: str
    event_id: int | None = None


def receive(ws: Workspace, connector_id: int, body: bytes, signature: str | None) -> Receipt:
    """Check the signature and store the event; the answer the sender gets."""
    with read_session(ws.engine) as session:
        connector = session.get(Connector, connector_id)
    if connector is None or connector.template_id != "inbound_webhook":
        return Receipt(404, "no inbound webhook connector here")
    if len(body) > MAX_BODY_BYTES:
        return Receipt(413, "event larger than 1 MB")
    secret = load_connection(ws, connector_id).values.get("signing_secret", "")
    if not signature or not secret or not hmac.compare_digest(sign(secret, body), signature):
        return Receipt(401, f"missing or wrong {SIGNATURE_HEADER}")
    try:
        payload = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return Receipt(400, "the body is not JSON")
    items = payload if isinstance(payload, list) else [payload]
    if not all(isinstance(item, dict) for item in items):
        return Receipt(400, "the body must be a JSON object, or a list of objects")
    with transaction(ws) as session:
        event = WebhookEvent(connector_id=connector_id, body="")
        session.add(event)
        session.flush()
        # the body holds people's e-mails: sealed at rest, bound to this event
        event.body = seal_text(ws.vault, event_aad(event.id), body.decode())
        session.add(event)
        return Receipt(202, "stored", event.id)


def deliver_pending(ws: Workspace, limit: int = 200, gateway: Gateway | None = None) -> int:
    """Deliver stored events to their flows; returns how many were handled."""
    with read_session(ws.engine) as session:
        events = session.exec(
            select(WebhookEvent)
            .where(WebhookEvent.status == "pending")
            .order_by(col(WebhookEvent.id))
            .limit(limit)
        ).all()
    for event in events:
        try:
            pushes = _deliver(ws, event)
        except Exception as exc:  # one bad event must not hold back the ones after it
            log.exception("webhook event %s could not be delivered", event.id)
            _set_rejected(ws, event.id, f"could not be delivered ({type(exc).__name__})")
            continue
        if gateway is not None and pushes:
            _push(ws, gateway, event.id, pushes)
    return len(events)


def _set_rejected(ws: Workspace, event_id: int, error: str) -> None:
    with transaction(ws) as session:
        row = session.get(WebhookEvent, event_id)
        if row is not None and row.status == "pending":
            row.status, row.error, row.delivered_at = "rejected", error, utcnow()
            session.add(row)


def webhook_entity(flow: Integration) -> str:
    """The hub entity a webhook flow lands: its data as a name ("Form data" → form_data)."""
    return flow.data.strip().lower().replace(" ", "_") or "event"


event_aad = webhook_aad


@dataclass
class _FlowPage:
    """One flow's share of an event: the records mapped and sorted by the gate."""

    flow: Integration
    entity: str
    source: str
    guard: PiiGuard
    gate: RecordGate
    outcome: GateOutcome


def _sorted_for_flows(
    ws: Workspace, event: WebhookEvent, records: list, problems: list[str]
) -> list[_FlowPage]:
    """Map the event's records for every webhook flow of its connector and pass them through
    the same gate as a sync (suppression list, consent), as the engine does: read first,
    before the write transaction."""
    pages: list[_FlowPage] = []
    with read_session(ws.engine) as session:
        flows = session.exec(
            select(Integration).where(
                Integration.source_connector_id == event.connector_id,
                Integration.method == "webhook",
                Integration.enabled == True,  # noqa: E712
            )
        ).all()
        for flow in flows:
            mappings = [
                (m.source_field, m.destination_field)
                for m in session.exec(
                    select(FieldMapping)
                    .where(FieldMapping.integration_id == flow.id)
                    .order_by(FieldMapping.position)
                )
            ]
            system = session.get(System, flow.source_system_id)
            source = system.name if system else "webhook"
            specs = field_specs_for(session, flow.destination_system_id)
            pii = pii_fields_for(session, flow.destination_system_id)
            guard = PiiGuard(ws.vault, pii, digester(ws))
            gate = RecordGate(
                guard,
                sources=consent_sources(flow.consent_json),
                required_purpose=flow.required_purpose,
                source_name=source,
                integration_id=flow.id,
            )
            pairs: list[tuple[dict, IncomingRecord]] = []
            for index, record in enumerate(records):
                if not isinstance(record, dict):
                    problems.append(f"record {index + 1} is not a JSON object")
                    continue
                fields = apply_mapping(record, mappings)
                key = _record_key(record, guard) or f"{event.id}-{index}"
                trouble = record_problems(fields, specs)
                if trouble:
                    problems.append(f"{key}: {'; '.join(trouble)}")
                    continue
                pairs.append((record, IncomingRecord(key, fields, event.received_at)))
            outcome = gate.sort(session, pairs)
            pages.append(_FlowPage(flow, webhook_entity(flow), source, guard, gate, outcome))
    return pages


def _record_key(record: dict, guard: PiiGuard) -> str | None:
    """A form record's key in the hub: its own id, else the person — by the digest of their
    e-mail, so the e-mail never stands in the clear as a key."""
    own = get_path(record, "id")
    if own:
        return str(own)
    digest = guard.digest(get_path(record, "email"))
    return f"person:{digest}" if digest else None


def _left_out(page: _FlowPage) -> list[str]:
    notes = []
    if page.outcome.suppressed:
        notes.append(
            f"{page.flow.name}: {page.outcome.suppressed} left out (on the suppression list: "
            "the person asked to be deleted)"
        )
    if page.outcome.no_consent:
        label = PURPOSES.get(page.flow.required_purpose, page.flow.required_purpose)
        notes.append(f"{page.flow.name}: {page.outcome.no_consent} left out (no {label} consent)")
    return notes


def _deliver(ws: Workspace, event: WebhookEvent) -> list[tuple[Integration, list[dict]]]:
    """Land the event's records in the hub; returns what each flow should push on."""
    pushes: list[tuple[Integration, list[dict]]] = []
    payload = json.loads(open_text(ws.vault, event_aad(event.id), event.body))
    records = payload if isinstance(payload, list) else [payload]
    problems: list[str] = []
    pages = _sorted_for_flows(ws, event, records, problems)
    with transaction(ws) as session:
        row = session.get(WebhookEvent, event.id)
        if row is None or row.status != "pending":
            return pushes
        notes: list[str] = []
        landed = 0
        for page in pages:
            upsert_records(
                session,
                entity=page.entity,
                source=page.source,
                records=page.outcome.passed,
                run_id=None,
                guard=page.guard,
            )
            page.gate.record(session, page.outcome)
            notes += _left_out(page)
            landed += len(page.outcome.passed)
            flow = page.flow
            if flow.destination_connector_id and flow.destination_stream and page.outcome.passed:
                pushes.append((flow, [r.fields for r in page.outcome.passed]))
        now = utcnow()
        if problems and len(problems) >= len(records):
            row.status = "rejected"
        elif notes and not landed:
            row.status = "left_out"
        else:
            row.status = "delivered"
        row.error = scrub("\n".join(problems + notes))[:2000]
        row.delivered_at = now
        row.delay_ms = (now - row.received_at).total_seconds() * 1000
        session.add(row)
    return pushes


def _push(
    ws: Workspace, gateway: Gateway, event_id: int, pushes: list[tuple[Integration, list[dict]]]
) -> None:
    """Send the landed records on to each flow's destination; note what it refused."""
    notes: list[str] = []
    for flow, records in pushes:
        try:
            connection = load_connection(ws, flow.destination_connector_id)
            stream = next(
                s for s in connection.template.streams if s.name == flow.destination_stream
            )
            result = StreamWriter(
                gateway,
                connection,
                stream,
                flow.write_mode,
                context=CallContext(integration_id=flow.id),
            ).write(records)
        except (SwitchboardError, StopIteration) as exc:
            notes.append(f"{flow.name}: not sent to the destination ({exc})")
            continue
        notes.extend(f"{flow.name}: {key} refused: {reason}" for key, reason in result.rejected)
    if notes:
        with transaction(ws) as session:
            row = session.get(WebhookEvent, event_id)
            row.error = scrub("\n".join(filter(None, [row.error, *notes])))[:2000]
            session.add(row)


class _Handler(BaseHTTPRequestHandler):
    server: WebhookServer

    def do_POST(self) -> None:  # noqa: N802  (the http.server API)
        parts = self.path.strip("/").split("/")
        if len(parts) != 2 or parts[0] != "webhooks" or not parts[1].isdigit():
            self._answer(Receipt(404, "unknown address; POST to /webhooks/<connector id>"))
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(length, MAX_BODY_BYTES + 1))
        try:
            receipt = receive(
                self.server.ws, int(parts[1]), body, self.headers.get(SIGNATURE_HEADER)
            )
        except SwitchboardError as exc:
            log.error("webhook not stored: %s", exc)
            receipt = Receipt(503, "not stored; retry later")
        if receipt.status == 202:
            self.server.arrived.set()
        self._answer(receipt)

    def do_GET(self) -> None:  # noqa: N802
        self._answer(Receipt(200, "ok") if self.path == "/healthz" else Receipt(404, "not found"))

    def _answer(self, receipt: Receipt) -> None:
        payload = json.dumps({"status": receipt.message, "event_id": receipt.event_id}).encode()
        self.send_response(receipt.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        log.debug(format, *args)


class WebhookServer(ThreadingHTTPServer):
    """The worker's inbound endpoint; ``arrived`` wakes the delivery loop at once."""

    daemon_threads = True

    def __init__(self, ws: Workspace, host: str, port: int) -> None:
        super().__init__((host, port), _Handler)
        self.ws = ws
        self.arrived = threading.Event()

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, name="webhooks", daemon=True)
        thread.start()
        return thread
