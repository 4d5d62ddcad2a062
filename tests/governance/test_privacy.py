"""Deletion requests end to end against the sandbox: a person synced from the CRM into the
hub and on to the MAP is found by e-mail, deleted from the hub, from HubSpot (GDPR delete)
and from Mailchimp (permanent delete), and stays out through later syncs; a system that
fails leaves the request partially completed until a retry; bad input is refused; the
legal deadlines are counted right."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest
from sqlmodel import select

from core.audit import AuditFilter, list_entries
from core.errors import InputError, PermissionDenied
from core.gateway import Gateway
from core.permissions import Actor, Role
from core.pii import MASK, PiiFields, email_digest
from core.privacy import create_request, find_person, get_request, list_requests
from core.privacy_deadlines import due_date, timeliness
from core.privacy_delete import execute_request, retry_failed
from core.sync.hub import IncomingRecord, PiiGuard, upsert_records
from core.workspace import Workspace, transaction
from db.dictionary import DictionaryField
from db.engine import read_session
from db.governance import Consent, PrivacyRequest, Suppression
from db.models import FieldConflict, HubRecord, IntegrationRun
from tests.conftest import ADMIN, EDITOR, VIEWER
from tests.connectors.sandbox_control import logged
from tests.sync import conftest as sync_fixtures
from tests.sync.conftest import HUBSPOT_AUTH, Stack, fault, hubspot_upsert, resize, run_flow

# the sync tests' fixtures: a sandbox on loopback, the demo's stack pointing at it
sandbox_server = sync_fixtures.sandbox_server
sandbox = sync_fixtures.sandbox
stack = sync_fixtures.stack
gateway = sync_fixtures.gateway

SALES_LEAD = Actor("sales-lead", Role.LEAD, domains={"Sales": Role.LEAD})
MAPPINGS = [
    ("properties.email", "email_address"),
    ("properties.firstname", "merge_fields.FNAME"),
    ("properties.lastname", "merge_fields.LNAME"),
]
MAILCHIMP = "/mailchimp/3.0/lists/a1b2c3d4e5/members"
MAILCHIMP_AUTH = ("any", "00000000000000000000000000000000-us1")


def contacts_to_audience(stack: Stack, sandbox: httpx.Client, gateway: Gateway) -> int:
    """Three CRM contacts synced into the hub and on to the MAP's audience; the e-mail is
    Marketing's personal data, sealed in the hub."""
    resize(sandbox, "hubspot", "contacts", 3)
    with transaction(stack.ws) as session:
        session.add(
            DictionaryField(
                name="email_address",
                system_id=stack.systems["MAP"],
                data_type="Email",
                pii=True,
                domain="Marketing",
            )
        )
    flow = stack.flow(
        "Contacts → audience",
        "hubspot",
        "contacts",
        mappings=MAPPINGS,
        destination="mailchimp",
        destination_stream="members",
        destination_system="MAP",
    )
    run = run_flow(stack.ws, flow, gateway)
    assert (run.status, run.records_written, run.records_rejected) == ("succeeded", 3, 0)
    return flow


def first_contact(sandbox: httpx.Client) -> dict:
    answer = sandbox.get(
        "/hubspot/crm/v3/objects/contacts", params={"limit": "1"}, headers=HUBSPOT_AUTH
    )
    return answer.json()["results"][0]


def member(sandbox: httpx.Client, email: str) -> httpx.Response:
    return sandbox.get(f"{MAILCHIMP}/{email}", auth=MAILCHIMP_AUTH)


def crm_search(sandbox: httpx.Client, email: str) -> list[dict]:
    body = {
        "filterGroups": [{"filters": [{"propertyName": "email", "operator": "EQ", "value": email}]}]
    }
    answer = sandbox.post(
        "/hubspot/crm/v3/objects/contacts/search", json=body, headers=HUBSPOT_AUTH
    )
    return answer.json()["results"]


def held(ws, email: str) -> list[HubRecord]:  # noqa: ANN001
    digest = email_digest(ws, email)
    with read_session(ws.engine) as session:
        return list(session.exec(select(HubRecord).where(HubRecord.email_digest == digest)))


def run_row(ws, run_id: int) -> IntegrationRun:  # noqa: ANN001
    with read_session(ws.engine) as session:
        return session.get(IntegrationRun, run_id)


def privacy_audit(ws) -> list:  # noqa: ANN001
    with read_session(ws.engine) as session:
        return list_entries(session, AuditFilter(entity="privacy_request"))


# --- end to end ------------------------------------------------------------------------------


def test_a_person_is_deleted_everywhere_and_stays_out_of_later_syncs(
    stack: Stack, sandbox: httpx.Client, gateway: Gateway
) -> None:
    flow = contacts_to_audience(stack, sandbox, gateway)
    contact = first_contact(sandbox)
    email = contact["properties"]["email"]
    assert member(sandbox, email).status_code == 200

    found = find_person(stack.ws, ADMIN, email)
    [record] = found.records
    assert (record.entity, record.key) == ("contact", contact["id"])
    assert set(record.systems) == {"CRM", "MAP"}
    assert record.values["email_address"] == email
    assert {t.connector for t in found.targets} == {"HubSpot (sandbox)", "Mailchimp (sandbox)"}
    # a lead of another domain may handle the request but sees Marketing's data masked
    masked = find_person(stack.ws, SALES_LEAD, email).records[0].values
    assert MASK in masked["email_address"] and email not in json.dumps(masked)

    request = create_request(stack.ws, ADMIN, f"  {email.upper()} ", "gdpr")
    assert (request.status, request.regulation) == ("received", "gdpr")
    assert request.due_at == due_date("gdpr", request.received_at)
    assert request.deadline.endswith("days left")
    with read_session(stack.ws.engine) as session:
        stored = session.get(PrivacyRequest, request.id)
    assert email not in stored.found_json + stored.results_json + stored.email_hint
    assert email.encode() not in stored.email_ciphertext

    done = execute_request(stack.ws, ADMIN, request.id, gateway)
    assert done.status == "completed", done.results
    assert done.completed_at is not None and done.deadline == "completed on time"
    assert {(r["connector"], r["status"]) for r in done.results} == {
        ("HubSpot (sandbox)", "ok"),
        ("Mailchimp (sandbox)", "ok"),
    }
    assert done.hub_records_deleted == 1
    assert held(stack.ws, email) == []
    gone = sandbox.get(f"/hubspot/crm/v3/objects/contacts/{contact['id']}", headers=HUBSPOT_AUTH)
    assert gone.status_code == 404
    assert crm_search(sandbox, email) == []
    assert member(sandbox, email).status_code == 404
    with read_session(stack.ws.engine) as session:
        suppressed = session.exec(select(Suppression)).all()
    assert [(s.email_digest, s.request_id) for s in suppressed] == [
        (email_digest(stack.ws, email), request.id)
    ]
    entries = privacy_audit(stack.ws)
    assert {e.action for e in entries} == {"create", "delete", "update"}
    assert all(email not in e.summary + e.before_json + e.after_json for e in entries)

    # the person comes back into the CRM (a sales rep re-adds them): the next sync leaves
    # them out of the hub and out of the MAP
    hubspot_upsert(sandbox, email, firstname="Back", lastname="Again")
    again = run_row(stack.ws, run_flow(stack.ws, flow, gateway).id)
    assert again.status == "succeeded"
    assert (again.skipped_suppressed, again.records_written) == (1, 0)
    assert again.records_rejected == 0  # never sent to Mailchimp (it would refuse them)
    assert held(stack.ws, email) == []
    assert member(sandbox, email).status_code == 404


def test_a_failing_system_leaves_the_request_partially_completed_until_a_retry(
    stack: Stack, sandbox: httpx.Client, gateway: Gateway
) -> None:
    contacts_to_audience(stack, sandbox, gateway)
    email = first_contact(sandbox)["properties"]["email"]
    request = create_request(stack.ws, ADMIN, email, "ccpa")
    fault(sandbox, "mailchimp", "server_error", count=5)  # every attempt the gateway makes

    partial = execute_request(stack.ws, ADMIN, request.id, gateway)
    assert partial.status == "partially_completed"
    results = {r["connector"]: r for r in partial.results}
    assert results["HubSpot (sandbox)"]["status"] == "ok"
    assert results["Mailchimp (sandbox)"]["status"] == "failed"
    assert results["Mailchimp (sandbox)"]["detail"]
    assert partial.failed_systems == ["MAP"] and partial.completed_at is None
    assert held(stack.ws, email) == []  # the hub's part is done at once
    assert member(sandbox, email).status_code == 200
    with pytest.raises(InputError, match="already executed"):
        execute_request(stack.ws, ADMIN, request.id, gateway)

    gdpr_deletes = len([r for r in logged(sandbox, "hubspot") if "gdpr-delete" in r["path"]])
    retried = retry_failed(stack.ws, ADMIN, request.id, gateway)
    assert retried.status == "completed" and retried.failed_systems == []
    assert member(sandbox, email).status_code == 404
    # only the failed system was asked again
    assert len([r for r in logged(sandbox, "hubspot") if "gdpr-delete" in r["path"]]) == (
        gdpr_deletes
    )
    with pytest.raises(InputError, match="nothing failed"):
        retry_failed(stack.ws, ADMIN, request.id, gateway)


def test_a_system_that_no_longer_holds_the_person_counts_as_done(
    stack: Stack, sandbox: httpx.Client, gateway: Gateway
) -> None:
    contacts_to_audience(stack, sandbox, gateway)
    email = first_contact(sandbox)["properties"]["email"]
    assert sandbox.delete(f"{MAILCHIMP}/{email}", auth=MAILCHIMP_AUTH).status_code == 204
    request = create_request(stack.ws, ADMIN, email, "gdpr")
    done = execute_request(stack.ws, ADMIN, request.id, gateway)
    assert done.status == "completed"
    assert {r["connector"]: r["status"] for r in done.results}["Mailchimp (sandbox)"] == (
        "not_found"
    )


def test_executing_deletes_the_persons_consents_and_keeps_other_people(
    stack: Stack, sandbox: httpx.Client, gateway: Gateway
) -> None:
    contacts_to_audience(stack, sandbox, gateway)
    email = first_contact(sandbox)["properties"]["email"]
    digests = [email_digest(stack.ws, who) for who in (email, "someone.else@example.com")]
    with transaction(stack.ws) as session:
        for digest in digests:
            session.add(Consent(email_digest=digest, purpose="email_marketing", granted=True))
    request = create_request(stack.ws, ADMIN, email, "gdpr")
    execute_request(stack.ws, ADMIN, request.id, gateway)
    with read_session(stack.ws.engine) as session:
        left = session.exec(select(Consent.email_digest)).all()
        hub_rows = session.exec(select(HubRecord)).all()
    assert left == [email_digest(stack.ws, "someone.else@example.com")]
    assert len(hub_rows) == 2


# --- bad input and permissions ------------------------------------------------------------


def test_bad_input_is_refused_with_the_field_and_the_fix(
    stack: Stack, sandbox: httpx.Client, gateway: Gateway
) -> None:
    contacts_to_audience(stack, sandbox, gateway)
    email = first_contact(sandbox)["properties"]["email"]

    with pytest.raises(InputError) as malformed:
        find_person(stack.ws, ADMIN, "ann.example.com")
    assert malformed.value.problems[0].field == "E-mail"
    assert "name@example.com" in malformed.value.problems[0].message
    with pytest.raises(InputError, match="no record in the hub holds this e-mail"):
        create_request(stack.ws, ADMIN, "nobody@example.com", "gdpr")
    with pytest.raises(InputError) as regulation:
        create_request(stack.ws, ADMIN, email, "lgpd")
    assert [p.field for p in regulation.value.problems] == ["Regulation"]

    first = create_request(stack.ws, ADMIN, email, "gdpr")
    with pytest.raises(InputError, match=f"request #{first.id} .* is still open"):
        create_request(stack.ws, ADMIN, email, "gdpr")
    execute_request(stack.ws, ADMIN, first.id, gateway)
    day = first.received_at.date().isoformat()
    with pytest.raises(InputError, match=f"already deleted by request #{first.id} of {day}"):
        find_person(stack.ws, ADMIN, email)
    with pytest.raises(InputError, match="already deleted"):
        create_request(stack.ws, ADMIN, email, "ccpa")
    assert [r.id for r in list_requests(stack.ws, ADMIN)] == [first.id]


def test_only_admins_and_domain_leads_handle_privacy_requests(
    stack: Stack, sandbox: httpx.Client, gateway: Gateway
) -> None:
    contacts_to_audience(stack, sandbox, gateway)
    email = first_contact(sandbox)["properties"]["email"]
    for who in (EDITOR, VIEWER):
        with pytest.raises(PermissionDenied):
            find_person(stack.ws, who, email)
        with pytest.raises(PermissionDenied):
            create_request(stack.ws, who, email, "gdpr")
    request = create_request(stack.ws, SALES_LEAD, email, "gdpr")
    with pytest.raises(PermissionDenied):
        execute_request(stack.ws, EDITOR, request.id, gateway)
    with pytest.raises(PermissionDenied):
        list_requests(stack.ws, VIEWER)
    assert get_request(stack.ws, SALES_LEAD, request.id).status == "received"


# --- deadlines ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("regulation", "received", "due"),
    [
        (
            "gdpr",
            datetime(2025, 1, 31, 9, 30, tzinfo=UTC),
            datetime(2025, 2, 28, 9, 30, tzinfo=UTC),
        ),
        (
            "gdpr",
            datetime(2024, 1, 31, 9, 30, tzinfo=UTC),
            datetime(2024, 2, 29, 9, 30, tzinfo=UTC),
        ),
        ("gdpr", datetime(2025, 3, 31, tzinfo=UTC), datetime(2025, 4, 30, tzinfo=UTC)),
        ("gdpr", datetime(2025, 12, 15, tzinfo=UTC), datetime(2026, 1, 15, tzinfo=UTC)),
        ("ccpa", datetime(2025, 1, 31, tzinfo=UTC), datetime(2025, 3, 17, tzinfo=UTC)),
        ("ccpa", datetime(2025, 12, 1, tzinfo=UTC), datetime(2026, 1, 15, tzinfo=UTC)),
    ],
)
def test_legal_deadlines(regulation: str, received: datetime, due: datetime) -> None:
    assert due_date(regulation, received) == due


def test_how_a_request_stands_against_its_deadline() -> None:
    due = datetime(2025, 2, 28, 9, 30, tzinfo=UTC)
    assert timeliness(due, None, datetime(2025, 2, 25, 23, 0, tzinfo=UTC)) == "3 days left"
    assert timeliness(due, None, datetime(2025, 2, 27, 10, 0, tzinfo=UTC)) == "1 day left"
    assert timeliness(due, None, datetime(2025, 2, 28, 23, 0, tzinfo=UTC)) == "due today"
    assert timeliness(due, None, datetime(2025, 3, 2, tzinfo=UTC)) == "overdue by 2 days"
    assert timeliness(due, datetime(2025, 2, 28, 20, 0, tzinfo=UTC), due) == "completed on time"
    assert timeliness(due, datetime(2025, 3, 1, tzinfo=UTC), due) == "completed 1 day late"


# --- on both stores -----------------------------------------------------------------------


def test_a_request_without_connected_systems_completes_on_either_store(
    store_ws: Workspace,
) -> None:
    """A person only the hub holds: executing clears the hub, their open conflict and
    consent, and suppresses them, under SQLite's and PostgreSQL's locking alike."""
    ws = store_ws
    email = "pat.doe@example.com"
    digest = email_digest(ws, email)
    guard = PiiGuard(ws.vault, PiiFields(), lambda value: email_digest(ws, value))
    with transaction(ws) as session:
        upsert_records(
            session,
            entity="lead",
            source="Website",
            records=[IncomingRecord("L-1", {"email": email}, datetime.now(UTC))],
            run_id=None,
            guard=guard,
        )
        session.add(FieldConflict(entity="lead", external_key="L-1", field="stage"))
        session.add(Consent(email_digest=digest, purpose="ad_user_data", granted=False))
    request = create_request(ws, ADMIN, email, "ccpa")
    assert request.results == []
    done = execute_request(ws, ADMIN, request.id, Gateway(sleep=lambda seconds: None))
    assert (done.status, done.hub_records_deleted, done.results) == ("completed", 1, [])
    with read_session(ws.engine) as session:
        assert session.exec(select(HubRecord)).all() == []
        assert session.exec(select(FieldConflict)).all() == []
        assert session.exec(select(Consent)).all() == []
        assert session.exec(select(Suppression.request_id)).all() == [request.id]
