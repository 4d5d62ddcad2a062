"""Personal data end to end, over a real sync against the sandbox: sealed at rest (absent in
plaintext from the database file), masked for people without the PII permission of its
domain in the hub, the review queue, the preview and the CSV export, every unmasked view
logged, and still readable after a key rotation."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlmodel import select

import core.pii
from core.audit import AuditFilter, list_entries
from core.conflicts import list_conflicts, resolve_conflict
from core.connectors.secrets import rotate_secrets
from core.errors import InputError, PermissionDenied
from core.field_types import FieldSpec
from core.gateway import Gateway
from core.hub_read import export_csv, hub_entities, list_records
from core.integrations import IntegrationInput, create_integration
from core.permissions import Actor, Role
from core.pii import MASK, email_digest, email_hint
from core.runs import rejected_records
from core.sync.preview import preview_flow
from core.sync.validation import record_problems
from core.vault import Sealed, load_vault
from core.workspace import Workspace, transaction
from db.dictionary import DictionaryField
from db.engine import read_session
from db.governance import AccessLogEntry, PrivacyRequest, WorkspaceKey
from db.models import FieldConflict, HubRecord, utcnow
from tests.conftest import ADMIN, EDITOR, VIEWER
from tests.sync import conftest as sync_fixtures
from tests.sync.conftest import Stack, hubspot_upsert, resize, run_flow

# the sync tests' fixtures: a sandbox on loopback, the demo's stack pointing at it
sandbox_server = sync_fixtures.sandbox_server
sandbox = sync_fixtures.sandbox
stack = sync_fixtures.stack
gateway = sync_fixtures.gateway

LEAD = Actor("lead", Role.LEAD, domains={"Marketing": Role.LEAD})
GRANTED = Actor(
    "granted", Role.EDITOR, domains={"Marketing": Role.EDITOR}, pii_domains=frozenset({"Marketing"})
)
FINANCE_EDITOR = Actor("finance", Role.EDITOR, domains={"Finance": Role.EDITOR})
MAPPINGS = [
    ("properties.email", "email"),
    ("properties.firstname", "firstname"),
    ("properties.lastname", "lastname"),
    ("properties.phone", "phone"),
    ("properties.company", "company"),
]


def add_dictionary(stack: Stack) -> None:
    """The warehouse's fields: e-mail and names are Marketing's personal data (first name
    critical), the phone Finance's; the company is ordinary."""
    system = stack.systems["BigQuery"]
    with transaction(stack.ws) as session:
        for name, kind, domain, critical in (
            ("email", "Email", "Marketing", False),
            ("firstname", "String", "Marketing", True),
            ("lastname", "String", "Marketing", False),
            ("phone", "String", "Finance", False),
        ):
            session.add(
                DictionaryField(
                    name=name,
                    system_id=system,
                    data_type=kind,
                    pii=True,
                    critical=critical,
                    domain=domain,
                )
            )
        session.add(DictionaryField(name="company", system_id=system, data_type="String"))


@dataclass
class Synced:
    """Contacts synced by two sources into the hub: the CRM's flow, then a second flow
    (from the MAP system) that saw one person's names changed."""

    contacts: dict[str, dict]
    changed_key: str
    old_first: str
    old_last: str


def sync_contacts(stack: Stack, sandbox: httpx.Client, gateway: Gateway) -> Synced:
    resize(sandbox, "hubspot", "contacts", 5)
    add_dictionary(stack)
    first = stack.flow("Contacts → warehouse", "hubspot", "contacts", mappings=MAPPINGS)
    assert run_flow(stack.ws, first, gateway).status == "succeeded"
    contacts = {r.key: dict(r.fields) for r in list_records(stack.ws, ADMIN, "contact").records}
    key = sorted(contacts)[0]
    person = contacts[key]
    hubspot_upsert(sandbox, person["email"], firstname="Zebedee", lastname="Quillfeather")
    second = create_integration(
        stack.ws,
        ADMIN,
        IntegrationInput(
            name="Audience copy → warehouse",
            source_system_id=stack.systems["MAP"],
            destination_system_id=stack.systems["BigQuery"],
            data="Contacts",
            frequency="hourly",
            method="api",
            enabled=False,
            source_connector_id=stack.connectors["hubspot"],
            source_stream="contacts",
        ),
        MAPPINGS,
    ).id
    assert run_flow(stack.ws, second, gateway).status == "succeeded"
    return Synced(contacts, key, person["firstname"], person["lastname"])


def database_bytes(ws: Workspace) -> bytes:
    """The SQLite file and its write-ahead log, as they lie on disk."""
    with ws.engine.connect() as connection:
        connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    path = Path(ws.engine.url.database)
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def access_log(ws: Workspace) -> list[AccessLogEntry]:
    with read_session(ws.engine) as session:
        return list(session.exec(select(AccessLogEntry).order_by(AccessLogEntry.id)))


def masked(value: str) -> str:
    local, _, host = value.partition("@")
    return f"{local[0]}{MASK}@{host}" if host else f"{value[0]}{MASK}"


# --- at rest ------------------------------------------------------------------------------


def test_personal_data_is_absent_in_plaintext_from_the_database_file(
    stack: Stack, sandbox: httpx.Client, gateway: Gateway
) -> None:
    ws = stack.ws
    synced = sync_contacts(stack, sandbox, gateway)
    contacts, key = synced.contacts, synced.changed_key

    # the second source changed a critical personal field: the conflict waits, sealed
    with read_session(ws.engine) as session:
        [conflict] = session.exec(select(FieldConflict)).all()
        rows = session.exec(select(HubRecord)).all()
    assert (conflict.external_key, conflict.field) == (key, "firstname")
    assert conflict.current_value.startswith("sealed:")
    assert conflict.incoming_value.startswith("sealed:")
    # the hub keeps the personal fields sealed, the ordinary ones plain, and the digest
    for row in rows:
        assert set(json.loads(row.fields_json)) == {"company"}
        assert row.pii_ciphertext and row.email_digest
        assert json.loads(row.provenance_json)["email"]["pii"] == "Marketing"
    # the non-critical last name was overwritten; its audit entry masks both values
    with read_session(ws.engine) as session:
        [overwrite] = list_entries(session, AuditFilter(action="overwrite"))
    assert json.loads(overwrite.before_json) == {"lastname": {"value": MASK, "source": "CRM"}}
    assert json.loads(overwrite.after_json) == {"lastname": {"value": MASK, "source": "MAP"}}

    resolve_conflict(ws, EDITOR, conflict.id, take_incoming=True)
    on_disk = database_bytes(ws)
    for person in contacts.values():
        assert person["email"].encode() not in on_disk
        for name in ("firstname", "lastname"):
            assert json.dumps(person[name]).encode() not in on_disk
        assert person["phone"].encode() not in on_disk
    for fresh in (b"Zebedee", b"Quillfeather"):
        assert fresh not in on_disk
    assert contacts[key]["company"].encode() in on_disk

    # an admin still reads every value back, the taken one included
    hub = {r.key: r.fields for r in list_records(ws, ADMIN, "contact").records}
    assert hub[key] == {**contacts[key], "firstname": "Zebedee", "lastname": "Quillfeather"}
    others = {k: v for k, v in hub.items() if k != key}
    assert others == {k: v for k, v in contacts.items() if k != key}
    with read_session(ws.engine) as session:
        [resolved] = list_entries(session, AuditFilter(action="resolve"))
    assert json.loads(resolved.before_json) == {"firstname": MASK}
    assert json.loads(resolved.after_json) == {"firstname": MASK}


def test_a_rejection_names_a_personal_field_and_the_fix_but_not_its_value(
    stack: Stack, sandbox: httpx.Client, gateway: Gateway
) -> None:
    resize(sandbox, "hubspot", "contacts", 3)
    add_dictionary(stack)
    flow = stack.flow(
        "First names as e-mails",
        "hubspot",
        "contacts",
        mappings=[("properties.firstname", "email")],
    )
    run = run_flow(stack.ws, flow, gateway)
    reasons = {r["Reason"] for r in rejected_records(stack.ws, ADMIN, run.id)}
    assert reasons == {"email: is not an e-mail address (Email), e.g. john@co.com"}

    specs = {
        "firstname": FieldSpec("firstname", "String", pattern="[A-Z][a-z]+", pii=True),
        "company": FieldSpec("company", "String", pattern="[A-Z].*"),
    }
    assert record_problems({"firstname": "ada", "company": "acme"}, specs) == [
        "firstname: does not match the field's pattern [A-Z][a-z]+",
        "company: 'acme' does not match the field's pattern [A-Z].*",
    ]


# --- masking and the access log ---------------------------------------------------------


def test_people_without_the_pii_permission_see_masked_values_and_leave_no_log(
    stack: Stack, sandbox: httpx.Client, gateway: Gateway
) -> None:
    ws = stack.ws
    synced = sync_contacts(stack, sandbox, gateway)
    before = len(access_log(ws))
    person = synced.contacts[synced.changed_key]

    listing = list_records(ws, VIEWER, "contact")
    seen = next(r.fields for r in listing.records if r.key == synced.changed_key)
    assert seen["email"] == masked(person["email"]) and seen["email"].count(MASK) == 1
    assert seen["firstname"] == masked(person["firstname"])
    assert seen["company"] == person["company"]
    assert listing.masked == ["email", "firstname", "lastname", "phone"]
    assert listing.personal["phone"] == "Finance"

    [conflict] = list_conflicts(ws, VIEWER)
    assert conflict.masked and conflict.pii_domain == "Marketing"
    assert (conflict.current_value, conflict.incoming_value) == (
        masked(synced.old_first),
        f"Z{MASK}",
    )

    data = IntegrationInput(
        name="Preview",
        source_system_id=stack.systems["CRM"],
        destination_system_id=stack.systems["BigQuery"],
        data="Contacts",
        frequency="hourly",
        method="api",
        source_connector_id=stack.connectors["hubspot"],
        source_stream="contacts",
    )
    rows = preview_flow(ws, EDITOR, gateway, data, MAPPINGS)
    # compared with the hub's sealed values: only the first name waiting for review differs
    assert {r.key: r.changed_fields for r in rows if r.change != "unchanged"} == {
        synced.changed_key: ["firstname"]
    }
    assert all(MASK in r.fields["email"] and MASK in r.fields["lastname"] for r in rows)
    assert {r.fields["company"] for r in rows} <= {p["company"] for p in synced.contacts.values()}
    with pytest.raises(PermissionDenied):
        preview_flow(ws, VIEWER, gateway, data, MAPPINGS)
    assert len(access_log(ws)) == before


@pytest.mark.parametrize("reader", [LEAD, GRANTED], ids=["domain lead", "granted viewer"])
def test_a_lead_or_a_granted_person_sees_marketing_values_and_each_view_is_logged(
    stack: Stack, sandbox: httpx.Client, gateway: Gateway, reader: Actor
) -> None:
    ws = stack.ws
    synced = sync_contacts(stack, sandbox, gateway)
    person = synced.contacts[synced.changed_key]
    before = len(access_log(ws))

    seen = {r.key: r.fields for r in list_records(ws, reader, "contact").records}
    assert seen[synced.changed_key]["email"] == person["email"]
    assert seen[synced.changed_key]["lastname"] == "Quillfeather"
    # the phone is Finance's personal data: still masked for Marketing's lead
    assert seen[synced.changed_key]["phone"] == masked(person["phone"])

    [conflict] = list_conflicts(ws, reader)
    assert not conflict.masked
    assert (conflict.current_value, conflict.incoming_value) == (synced.old_first, "Zebedee")

    data = IntegrationInput(
        name="Preview",
        source_system_id=stack.systems["CRM"],
        destination_system_id=stack.systems["BigQuery"],
        data="Contacts",
        frequency="hourly",
        method="api",
        source_connector_id=stack.connectors["hubspot"],
        source_stream="contacts",
    )
    rows = preview_flow(ws, reader, gateway, data, MAPPINGS)
    assert {r.fields["email"] for r in rows} == {p["email"] for p in synced.contacts.values()}

    entries = access_log(ws)[before:]
    assert [(e.username, e.kind, e.place, e.domain, e.fields, e.record_count) for e in entries] == [
        (reader.username, "view", "Hub records", "Marketing", "email, firstname, lastname", 5),
        (reader.username, "view", "Review queue", "Marketing", "firstname", 1),
        (
            reader.username,
            "view",
            "Integration preview",
            "Marketing",
            "email, firstname, lastname",
            5,
        ),
    ]
    logged = json.dumps([e.model_dump(mode="json") for e in entries])
    assert person["email"] not in logged and "Zebedee" not in logged


def test_resolving_needs_the_role_in_the_flows_domain(
    stack: Stack, sandbox: httpx.Client, gateway: Gateway
) -> None:
    ws = stack.ws
    synced = sync_contacts(stack, sandbox, gateway)
    [conflict] = list_conflicts(ws, ADMIN)
    assert conflict.flow_domain == "Marketing"
    for outsider in (VIEWER, FINANCE_EDITOR):
        with pytest.raises(PermissionDenied):
            resolve_conflict(ws, outsider, conflict.id, take_incoming=True)
    resolve_conflict(ws, GRANTED, conflict.id, take_incoming=False)
    hub = {r.key: r.fields for r in list_records(ws, ADMIN, "contact").records}
    assert hub[synced.changed_key]["firstname"] == synced.old_first
    with pytest.raises(InputError, match="already resolved by granted"):
        resolve_conflict(ws, LEAD, conflict.id, take_incoming=True)


def test_reading_an_unknown_entity_or_an_overlong_search_is_refused(
    stack: Stack, sandbox: httpx.Client, gateway: Gateway
) -> None:
    sync_contacts(stack, sandbox, gateway)
    assert hub_entities(stack.ws, VIEWER) == ["contact"]
    with pytest.raises(InputError) as unknown:
        list_records(stack.ws, VIEWER, "contacts")
    assert unknown.value.problems[0].field == "Entity"
    assert "pick one of: contact" in unknown.value.problems[0].message
    with pytest.raises(InputError, match="longer than 200 characters"):
        list_records(stack.ws, VIEWER, "contact", "9" * 201)
    assert list_records(stack.ws, VIEWER, "contact", "no-such-key").records == []


# --- exports -----------------------------------------------------------------------------


def test_the_csv_export_is_masked_for_a_viewer_and_logged_for_a_permitted_person(
    stack: Stack, sandbox: httpx.Client, gateway: Gateway
) -> None:
    ws = stack.ws
    synced = sync_contacts(stack, sandbox, gateway)
    emails = sorted(p["email"] for p in synced.contacts.values())

    def read(data: bytes) -> list[dict]:
        return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))

    before = len(access_log(ws))
    hidden = read(export_csv(ws, VIEWER, "contact"))
    assert sorted(r["email"] for r in hidden) == sorted(masked(e) for e in emails)
    assert all(MASK in r["lastname"] and MASK in r["phone"] for r in hidden)
    assert len(access_log(ws)) == before

    shown = read(export_csv(ws, LEAD, "contact"))
    assert sorted(r["email"] for r in shown) == emails
    assert all(MASK in r["phone"] for r in shown)
    [entry] = access_log(ws)[before:]
    assert (entry.username, entry.kind, entry.place, entry.record_count) == (
        "lead",
        "export",
        "Hub records CSV export",
        5,
    )
    assert entry.fields == "email, firstname, lastname"


# --- key rotation ------------------------------------------------------------------------


def test_after_a_key_rotation_personal_data_still_opens_and_the_digest_still_finds_people(
    stack: Stack, sandbox: httpx.Client, gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = stack.ws
    synced = sync_contacts(stack, sandbox, gateway)
    email = synced.contacts[synced.changed_key]["email"]
    digest = email_digest(ws, email)
    with transaction(ws) as session:
        sealed = ws.vault.seal(email, f"privacy_request:{digest}")
        session.add(
            PrivacyRequest(
                email_digest=digest,
                email_nonce=sealed.nonce,
                email_ciphertext=sealed.ciphertext,
                email_key_id=sealed.key_id,
                email_hint=email_hint(email),
                regulation="gdpr",
                due_at=utcnow(),
                requested_by="admin",
            )
        )

    def stored() -> dict[str, object]:
        with read_session(ws.engine) as session:
            return {
                "hub": {r.external_key: r.pii_ciphertext for r in session.exec(select(HubRecord))},
                "conflict": session.exec(select(FieldConflict.incoming_value)).one(),
                "request": session.exec(select(PrivacyRequest.email_ciphertext)).one(),
                "key": session.exec(select(WorkspaceKey.ciphertext)).one(),
            }

    old = stored()
    rotate_secrets(ws, actor="admin")
    new = stored()
    assert all(new["hub"][k] != old["hub"][k] for k in old["hub"])
    assert new["conflict"] != old["conflict"] and str(new["conflict"]).startswith("sealed:")
    assert new["request"] != old["request"] and new["key"] != old["key"]

    # a process started after the rotation knows only the new key
    monkeypatch.setattr(core.pii, "_digest_keys", {})
    fresh = replace(ws, vault=load_vault(ws.settings))
    hub = {r.key: r.fields for r in list_records(fresh, ADMIN, "contact").records}
    assert hub[synced.changed_key]["email"] == email
    [conflict] = list_conflicts(fresh, ADMIN)
    assert conflict.incoming_value == "Zebedee"
    with read_session(ws.engine) as session:
        found = session.exec(
            select(HubRecord.external_key).where(
                HubRecord.email_digest == email_digest(fresh, email)
            )
        ).all()
        request = session.exec(select(PrivacyRequest)).one()
        [entry] = list_entries(session, AuditFilter(action="rotate_key"))
    assert found == [synced.changed_key]
    opened = fresh.vault.open(
        Sealed(request.email_nonce, request.email_ciphertext, request.email_key_id),
        f"privacy_request:{digest}",
    )
    assert opened == email
    assert "5 hub record(s), 2 conflict value(s), 1 privacy request e-mail(s)" in entry.summary
    assert "1 workspace key(s)" in entry.summary
