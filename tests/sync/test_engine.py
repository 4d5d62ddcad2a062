"""The sync engine end to end, over real HTTP against the sandbox: what lands in the hub,
what the run records, and how a run fails when the source misbehaves or is set up wrong."""

from __future__ import annotations

import json
import threading

import httpx
from sqlmodel import select

from core.connectors.catalog import Catalog, default_catalog
from core.connectors.template import ConnectorTemplate
from core.errors import Whose
from core.gateway import CallRecord, Gateway
from core.pii import email_digest
from core.runs import (
    claim_next_run,
    get_run,
    list_runs,
    rejected_records,
    request_cancel,
    request_run,
)
from core.sync.engine import SyncRun, plan_flow
from core.sync.hub import IncomingRecord, upsert_records
from core.workspace import transaction
from db.engine import read_session
from db.models import (
    HubRecord,
    IntegrationLease,
    IntegrationRun,
    Reconciliation,
    SyncState,
    utcnow,
)
from tests.conftest import ADMIN, EDITOR
from tests.sync.conftest import (
    Stack,
    fault,
    hub,
    hub_count,
    hubspot_contact_ids,
    hubspot_upsert,
    pass_through,
    resize,
    run_flow,
)

WHOSE = {w.value for w in Whose}


def edited(template_id: str, stream: str, **changes: object) -> Catalog:
    """The shipped catalog with one stream of one template changed, as an engineer's custom
    template would change it."""
    catalog = default_catalog()
    template: ConnectorTemplate = catalog.get(template_id)
    streams = [s.model_copy(update=changes) if s.name == stream else s for s in template.streams]
    return Catalog(
        {**catalog.templates, template_id: template.model_copy(update={"streams": streams})}
    )


def reconciliations(ws, flow_id: int) -> list[Reconciliation]:  # noqa: ANN001
    with read_session(ws.engine) as session:
        return list(
            session.exec(
                select(Reconciliation)
                .where(Reconciliation.integration_id == flow_id)
                .order_by(Reconciliation.id)
            )
        )


# --- landing and incremental reads -------------------------------------------------------


def test_a_full_sync_lands_exactly_the_sources_keys_and_the_next_run_only_the_changes(
    stack: Stack, sandbox: httpx.Client, gateway: Gateway
) -> None:
    resize(sandbox, "hubspot", "contacts", 230)
    flow = stack.flow("HubSpot contacts → hub", "hubspot", "contacts")

    first = run_flow(stack.ws, flow, gateway)
    assert first.status == "succeeded", first.error_message
    source = hubspot_contact_ids(sandbox)
    assert set(hub(stack.ws, "contact")) == set(source)
    assert hub_count(stack.ws, "contact") == len(source) == 230
    assert (first.records_read, first.records_written, first.records_rejected) == (230, 230, 0)
    assert first.pages == 3 and first.requests == 3
    assert first.cursor_before == "" and first.cursor_after.startswith("2026-")

    second = run_flow(stack.ws, flow, gateway)
    assert second.status == "succeeded"
    assert second.records_written == 0
    assert second.cursor_before == first.cursor_after
    assert second.cursor_after == first.cursor_after
    assert hub_count(stack.ws, "contact") == 230

    contact = hub(stack.ws, "contact")["1017"]
    changed = hubspot_upsert(
        sandbox, contact["properties"]["email"], firstname="Renamed", jobtitle="CMO"
    )
    assert changed["id"] == "1017"

    third = run_flow(stack.ws, flow, gateway)
    assert third.status == "succeeded"
    assert third.records_written == 1
    assert third.cursor_before == first.cursor_after
    assert third.cursor_after > third.cursor_before
    landed = hub(stack.ws, "contact")["1017"]["properties"]
    assert (landed["firstname"], landed["jobtitle"]) == ("Renamed", "CMO")
    assert hub_count(stack.ws, "contact") == 230
    with read_session(stack.ws.engine) as session:
        assert session.get(SyncState, flow).cursor == third.cursor_after
    assert [r.status for r in list_runs(stack.ws, ADMIN, integration_id=flow)] == ["succeeded"] * 3


def test_mapped_fields_land_under_their_destination_names(
    stack: Stack, sandbox: httpx.Client, gateway: Gateway
) -> None:
    resize(sandbox, "hubspot", "contacts", 5)
    flow = stack.flow(
        "HubSpot e-mails",
        "hubspot",
        "contacts",
        mappings=[("properties.email", "email"), ("properties.firstname", "name.first")],
    )
    run = run_flow(stack.ws, flow, gateway)
    assert run.status == "succeeded"
    landed = hub(stack.ws, "contact")
    assert len(landed) == 5
    one = landed["1001"]
    assert set(one) == {"email", "name"} and "@" in one["email"] and set(one["name"]) == {"first"}


def test_values_that_do_not_fit_the_dictionary_are_rejected_with_their_reason(
    stack: Stack, sandbox: httpx.Client, gateway: Gateway
) -> None:
    """A first name mapped into a field the dictionary says holds e-mail addresses."""
    from core.runs import rejected_records
    from db.dictionary import DictionaryField

    resize(sandbox, "hubspot", "contacts", 5)
    with transaction(stack.ws) as session:
        session.add(
            DictionaryField(name="email", system_id=stack.systems["BigQuery"], data_type="Email")
        )
    flow = stack.flow(
        "First names as e-mails",
        "hubspot",
        "contacts",
        mappings=[("properties.firstname", "email")],
    )
    run = run_flow(stack.ws, flow, gateway)
    assert run.status == "succeeded"
    assert (run.records_read, run.records_written, run.records_rejected) == (5, 0, 5)
    reasons = [r["Reason"] for r in rejected_records(stack.ws, ADMIN, run.id)]
    assert len(reasons) == 5
    assert all(r.startswith("email: ") and "is not an e-mail address (Email)" in r for r in reasons)
    assert hub(stack.ws, "contact") == {}


# --- faults the gateway rides out --------------------------------------------------------


def test_mailchimp_429s_in_both_retry_after_forms_and_a_5xx_burst_still_succeed(
    stack: Stack, sandbox: httpx.Client
) -> None:
    resize(sandbox, "mailchimp", "members", 2400)
    fault(sandbox, "mailchimp", "rate_limit", retry_after="1")
    fault(sandbox, "mailchimp", "rate_limit", retry_after_http_date=True, retry_after_seconds=2)
    pass_through(sandbox, "mailchimp")
    fault(sandbox, "mailchimp", "server_error", count=3, status=503)
    waits: list[float] = []
    gateway = Gateway(timeout_seconds=10, sleep=waits.append)
    try:
        flow = stack.flow("Audience → hub", "mailchimp", "members")
        run = run_flow(stack.ws, flow, gateway)
    finally:
        gateway.close()
    assert run.status == "succeeded", run.error_message
    assert run.records_read == run.records_written == 2400
    assert hub_count(stack.ws, "contact") == 2400
    assert run.pages == 3
    assert run.rate_limited == 2
    assert run.retries == 5
    assert run.requests == 3 + 2 + 3
    # the gateway waited what each Retry-After asked: "1" and an HTTP date about 2 s away
    assert waits[0] == 1.0
    assert 0 < waits[1] <= 3


def test_tokens_expiring_in_the_middle_of_a_salesforce_walk_are_refreshed(
    stack: Stack, sandbox: httpx.Client, gateway: Gateway
) -> None:
    resize(sandbox, "salesforce", "Contact", 4100)
    fault(sandbox, "salesforce", "expire_tokens", after_requests=2)
    flow = stack.flow("Salesforce contacts → hub", "salesforce", "contacts")
    run = run_flow(stack.ws, flow, gateway)
    assert run.status == "succeeded", run.error_message
    assert run.pages == 3 and run.records_read == 4100
    assert hub_count(stack.ws, "contact") == 4100
    assert run.retries >= 1
    statuses = [
        r["status"]
        for r in sandbox.get("/_control/requests", params={"vendor": "salesforce"}).json()[
            "requests"
        ]
    ]
    assert 401 in statuses


# --- destination push --------------------------------------------------------------------


def test_contacts_pushed_to_mailchimp_and_a_refused_one_kept_with_its_reason(
    stack: Stack, sandbox: httpx.Client, gateway: Gateway
) -> None:
    resize(sandbox, "hubspot", "contacts", 12)
    resize(sandbox, "mailchimp", "members", 0)
    members = "/mailchimp/3.0/lists/a1b2c3d4e5/members"
    auth = ("switchboard", "00000000000000000000000000000000-us1")
    # one contact's address was permanently deleted from the audience: Mailchimp refuses it
    contact = (
        sandbox.get(
            "/hubspot/crm/v3/objects/contacts/1005",
            params={"properties": "email"},
            headers={"Authorization": "Bearer pat-sandbox-hubspot"},
        )
        .raise_for_status()
        .json()
    )
    forgotten = contact["properties"]["email"]
    created = sandbox.post(
        members, json={"email_address": forgotten, "status": "subscribed"}, auth=auth
    ).raise_for_status()
    sandbox.post(
        f"{members}/{created.json()['id']}/actions/delete-permanent", auth=auth
    ).raise_for_status()

    flow = stack.flow(
        "CRM → MAP contacts",
        "hubspot",
        "contacts",
        destination_system="MAP",
        destination="mailchimp",
        destination_stream="members",
        mappings=[
            ("properties.email", "email_address"),
            ("properties.firstname", "merge_fields.FNAME"),
            ("properties.lastname", "merge_fields.LNAME"),
        ],
    )
    run = run_flow(stack.ws, flow, gateway)
    assert run.status == "succeeded", run.error_message
    assert run.records_rejected == 1
    [rejected] = rejected_records(stack.ws, ADMIN, run.id)
    # a record matched on its e-mail is named by the person's digest, never the address
    assert rejected["Record"] == f"person:{email_digest(stack.ws, forgotten)}"
    assert rejected["Stage"] == "write"
    assert "permanently deleted" in rejected["Reason"]
    assert forgotten not in rejected["Reason"]

    audience = sandbox.get(members, params={"count": "100"}, auth=auth).raise_for_status().json()
    pushed = {m["email_address"]: m["merge_fields"] for m in audience["members"]}
    landed = {r["email_address"]: r["merge_fields"] for r in hub(stack.ws, "contact").values()}
    assert len(landed) == 12
    assert set(pushed) == set(landed) - {forgotten}
    for email, fields in pushed.items():
        assert (fields["FNAME"], fields["LNAME"]) == (
            landed[email]["FNAME"],
            landed[email]["LNAME"],
        )


# --- full refresh and reconciliation -----------------------------------------------------


def test_full_refresh_removes_unseen_records_and_reconciles_source_and_hub(
    stack: Stack, sandbox: httpx.Client, gateway: Gateway
) -> None:
    resize(sandbox, "hubspot", "contacts", 150)
    flow = stack.flow("Contacts, full", "hubspot", "contacts", sync_mode="full_refresh")
    first = run_flow(stack.ws, flow, gateway)
    assert first.status == "succeeded"
    assert hub_count(stack.ws, "contact") == 150

    resize(sandbox, "hubspot", "contacts", 120)
    second = run_flow(stack.ws, flow, gateway)
    assert second.status == "succeeded"
    assert set(hub(stack.ws, "contact")) == set(hubspot_contact_ids(sandbox))
    assert hub_count(stack.ws, "contact") == 120
    latest = reconciliations(stack.ws, flow)[-1]
    assert latest.run_id == second.id
    assert (latest.source_count, latest.hub_count, latest.ok) == (120, 120, True)
    assert (latest.missing_in_hub, latest.extra_in_hub) == (0, 0)

    # a record this source once wrote that another source also holds: the sync must not
    # delete it, and the reconciliation must say the hub holds one more than the source
    source_name = plan_flow(stack.ws, getattr(flow, "id", flow)).source_name
    with transaction(stack.ws) as session:
        for source, fields in (
            ("Trade show import", {"booth": "B12"}),
            (source_name, {"email": "booth@example.com"}),
        ):
            upsert_records(
                session,
                entity="contact",
                source=source,
                records=[IncomingRecord("tradeshow-1", fields, utcnow())],
                run_id=None,
            )
    third = run_flow(stack.ws, flow, gateway)
    assert third.status == "succeeded"
    assert "tradeshow-1" in hub(stack.ws, "contact")
    flagged = reconciliations(stack.ws, flow)[-1]
    assert flagged.run_id == third.id and not flagged.ok
    assert (flagged.source_count, flagged.hub_count) == (120, 121)
    assert (flagged.missing_in_hub, flagged.extra_in_hub) == (0, 1)
    assert json.loads(flagged.sample_json) == {"missing": [], "extra": ["tradeshow-1"]}


# --- cancel ------------------------------------------------------------------------------


def test_a_cancel_between_pages_stops_the_run_and_keeps_the_pages_done(
    stack: Stack, sandbox: httpx.Client
) -> None:
    resize(sandbox, "hubspot", "contacts", 500)
    flow = stack.flow("Contacts to cancel", "hubspot", "contacts")

    def cancel_while_the_first_page_is_read(call: CallRecord) -> None:
        # a person presses Cancel while the run is reading its first page
        if call.run_id is not None and not get_run(stack.ws, ADMIN, call.run_id).cancel_requested:
            request_cancel(stack.ws, EDITOR, call.run_id)

    gateway = Gateway(
        timeout_seconds=10, sleep=lambda s: None, recorder=cancel_while_the_first_page_is_read
    )
    try:
        run = run_flow(stack.ws, flow, gateway)
    finally:
        gateway.close()
    assert run.status == "cancelled"
    assert run.cancel_requested
    # the page in hand is finished and stays; nothing after it is written
    assert run.pages == 1 and run.records_written == 100
    assert "Cancelled" in run.error_message and "pages done so far stay" in run.error_message
    assert run.finished_at is not None
    assert hub_count(stack.ws, "contact") == 100
    with read_session(stack.ws.engine) as session:
        assert session.exec(select(IntegrationLease)).all() == []
        assert session.get(IntegrationRun, run.id).resume_json == ""


# --- bad input: each run fails in plain words, and a failed page commits nothing ---------


def assert_failed_plainly(run, *, whose: str | None = None) -> None:  # noqa: ANN001
    assert run.status == "failed"
    assert run.error_message and "Traceback" not in run.error_message
    assert run.error_fix
    assert run.error_whose in WHOSE
    if whose is not None:
        assert run.error_whose == whose
    assert run.finished_at is not None


def test_a_stream_whose_path_404s_fails_naming_the_address(
    stack: Stack, sandbox: httpx.Client, gateway: Gateway
) -> None:
    base = str(sandbox.base_url).rstrip("/")
    wrong = stack.connector(
        "Mailchimp, wrong audience",
        "mailchimp",
        f"{base}/mailchimp",
        dc="us1",
        api_key="00000000000000000000000000000000-us1",
        list_id="zzzzzzzzzz",
    )
    flow = stack.flow("Wrong audience", "mailchimp", "members", connector_id=wrong)
    run = run_flow(stack.ws, flow, gateway)
    assert_failed_plainly(run, whose="configuration")
    assert "zzzzzzzzzz" in run.error_message
    assert run.pages == 0 and hub_count(stack.ws, "contact") == 0


def test_a_wrong_record_path_fails_saying_what_the_answer_holds(
    stack: Stack, sandbox: httpx.Client, gateway: Gateway
) -> None:
    catalog = edited("custom_rest_api", "leads", record_path="results")
    flow = stack.flow("Portal leads", "custom_rest_api", "leads", data="Leads", catalog=catalog)
    run = run_flow(stack.ws, flow, gateway, catalog=catalog)
    assert_failed_plainly(run)
    assert "records not found at 'results'" in run.error_message
    assert "data" in run.error_message
    assert "record_path" in run.error_fix
    assert run.pages == 0 and hub_count(stack.ws, "lead") == 0


def test_a_cursor_field_missing_from_records_fails_naming_the_field(
    stack: Stack, sandbox: httpx.Client, gateway: Gateway
) -> None:
    contacts = default_catalog().get("hubspot").streams[0]
    incremental = contacts.incremental.model_copy(update={"cursor_field": "modifiedAt"})
    catalog = edited("hubspot", "contacts", incremental=incremental)
    flow = stack.flow("Contacts by modifiedAt", "hubspot", "contacts", catalog=catalog)
    run = run_flow(stack.ws, flow, gateway, catalog=catalog)
    assert_failed_plainly(run)
    assert "cursor field 'modifiedAt' missing from records" in run.error_message
    assert run.pages == 0 and hub_count(stack.ws, "contact") == 0
    with read_session(stack.ws.engine) as session:
        assert session.get(SyncState, flow) is None


def test_a_body_that_stays_truncated_fails_and_the_failed_page_commits_nothing(
    stack: Stack, sandbox: httpx.Client, gateway: Gateway
) -> None:
    resize(sandbox, "hubspot", "contacts", 300)
    pass_through(sandbox, "hubspot")
    fault(sandbox, "hubspot", "truncated_json", count=50)
    flow = stack.flow("Contacts, truncated", "hubspot", "contacts")
    run = run_flow(stack.ws, flow, gateway)
    assert_failed_plainly(run, whose="vendor")
    assert "not valid JSON" in run.error_message
    # the first page stays; the second, which never parsed, left nothing behind
    assert run.pages == 1 and run.records_read == 100 and run.records_written == 100
    assert hub_count(stack.ws, "contact") == 100
    assert run.requests == 1 + 5 and run.retries == 4
    with read_session(stack.ws.engine) as session:
        keys = set(session.exec(select(HubRecord.external_key)))
        assert session.get(SyncState, flow) is None  # a failed run moves no cursor
    assert keys == {str(n) for n in range(1001, 1101)}
    assert get_run(stack.ws, ADMIN, run.id).cursor_after == run.cursor_after


def test_a_non_json_answer_fails_the_run_after_retries(
    stack: Stack, sandbox: httpx.Client, gateway: Gateway
) -> None:
    fault(sandbox, "stripe", "non_json", count=50)
    flow = stack.flow("Stripe customers", "stripe", "customers", data="Customers")
    run = run_flow(stack.ws, flow, gateway)
    assert_failed_plainly(run, whose="vendor")
    assert "not valid JSON" in run.error_message
    assert run.pages == 0 and hub_count(stack.ws, "customer") == 0


# --- stopping and resuming in one process ------------------------------------------------


def test_a_stopped_full_refresh_resumes_at_its_page_and_still_reconciles(
    stack: Stack, sandbox: httpx.Client, gateway: Gateway
) -> None:
    resize(sandbox, "hubspot", "contacts", 320)
    flow = stack.flow("Contacts, full", "hubspot", "contacts", sync_mode="full_refresh")
    run_id = request_run(stack.ws, ADMIN, flow).id
    assert claim_next_run(stack.ws, "worker-1") == run_id
    stopping = threading.Event()
    stopping.set()  # the worker was asked to stop: it finishes the page in hand only
    assert SyncRun(stack.ws, gateway, run_id, "worker-1", stop=stopping).execute() == "queued"
    paused = get_run(stack.ws, ADMIN, run_id)
    assert paused.pages == 1 and hub_count(stack.ws, "contact") == 100

    assert claim_next_run(stack.ws, "worker-2") == run_id
    assert SyncRun(stack.ws, gateway, run_id, "worker-2").execute() == "succeeded"
    done = get_run(stack.ws, ADMIN, run_id)
    assert done.pages == 4 and done.records_read == 320
    assert set(hub(stack.ws, "contact")) == set(hubspot_contact_ids(sandbox))
    [reconciliation] = reconciliations(stack.ws, flow)
    assert (reconciliation.run_id, reconciliation.ok) == (run_id, True)
    assert (reconciliation.source_count, reconciliation.hub_count) == (320, 320)
