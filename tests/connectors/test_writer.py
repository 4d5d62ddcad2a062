"""Writing records for real against the sandbox: batches, read-backs, and each refused
record kept with the vendor's reason while the others are written."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from core.connectors.reader import StreamReader
from core.connectors.registry import Connection
from core.connectors.template import Stream
from core.connectors.writer import StreamWriter, WriteResult
from core.errors import AuthenticationFailed, InputError
from core.gateway import CallContext, Gateway
from tests.connectors.sandbox_control import logged


def stream_of(connection: Connection, name: str) -> Stream:
    return next(s for s in connection.template.streams if s.name == name)


@pytest.fixture
def write(
    gateway: Gateway, connect: Callable[[str], Connection]
) -> Callable[[str, str, str, list[dict[str, Any]]], WriteResult]:
    """``write(template_id, stream, mode, records)`` against the sandbox."""

    def run(template_id: str, stream: str, mode: str, records: list[dict[str, Any]]) -> WriteResult:
        connection = connect(template_id)
        writer = StreamWriter(gateway, connection, stream_of(connection, stream), mode)
        return writer.write(records)

    return run


@pytest.fixture
def read_all(
    gateway: Gateway, connect: Callable[[str], Connection]
) -> Callable[[str, str], list[dict[str, Any]]]:
    """``read_all(template_id, stream)``: every record of the stream, through the reader."""

    def run(template_id: str, stream: str) -> list[dict[str, Any]]:
        connection = connect(template_id)
        reader = StreamReader(gateway, connection, stream_of(connection, stream))
        return [r for page in reader.pages() for r in page.records]

    return run


def by_email(contacts: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {c["properties"]["email"]: c for c in contacts if c["properties"].get("email")}


# --- HubSpot batches -----------------------------------------------------------------------


def test_hubspot_batch_upsert_then_read_back(write, read_all, sandbox: httpx.Client) -> None:
    existing = read_all("hubspot", "contacts")[0]
    email = existing["properties"]["email"]
    records = [
        {"email": "ada@example.com", "firstname": "Ada", "lastname": "Lovelace"},
        {"email": "grace@example.com", "firstname": "Grace"},
        {"email": email, "firstname": "Renamed", "id": existing["id"]},
    ]

    result = write("hubspot", "contacts", "upsert", records)

    assert result == WriteResult(3, [])
    (request,) = logged(sandbox, "hubspot")[-1:]
    inputs = json.loads(request["body"])["inputs"]
    assert [i["id"] for i in inputs] == ["ada@example.com", "grace@example.com", email]
    assert all(i["idProperty"] == "email" for i in inputs)
    assert "id" not in inputs[2]["properties"]  # the HubSpot id is no property
    after = by_email(read_all("hubspot", "contacts"))
    assert len(after) == 252
    assert after["ada@example.com"]["properties"]["lastname"] == "Lovelace"
    assert after[email]["properties"]["firstname"] == "Renamed"
    assert after[email]["id"] == existing["id"]


def test_create_only_of_an_existing_email_is_rejected_with_the_reason(write, read_all) -> None:
    email = read_all("hubspot", "contacts")[3]["properties"]["email"]

    result = write("hubspot", "contacts", "create", [{"email": email, "firstname": "Dup"}])

    assert result.written == 0
    ((key, reason),) = result.rejected
    assert key == "#0"  # create has no match field: the record's position in the list
    assert "already exists" in reason
    assert write("hubspot", "contacts", "create", [{"email": "new@example.com"}]).written == 1


def test_update_only_of_an_unknown_id_rejects_that_record_and_writes_the_others(
    write, read_all
) -> None:
    known = read_all("hubspot", "contacts")[5]

    result = write(
        "hubspot",
        "contacts",
        "update",
        [
            {"id": known["id"], "jobtitle": "Chief Listener"},
            {"id": "99999999", "jobtitle": "Nobody"},
            {"jobtitle": "No id at all"},
        ],
    )

    assert result.written == 1
    assert dict(result.rejected) == {
        "99999999": "OBJECT_NOT_FOUND: Could not update some objects",
        "#2": "has no id (its id at HubSpot); read it from the vendor first, or write it with "
        "upsert.",
    }
    contacts = {c["id"]: c for c in read_all("hubspot", "contacts")}
    assert "99999999" not in contacts
    assert contacts[known["id"]]["updatedAt"] > known["updatedAt"]


def test_a_batch_refused_whole_rejects_its_records_and_the_next_batch_is_written(
    write, read_all, sandbox: httpx.Client
) -> None:
    records = [{"email": f"bulk{i}@example.com", "firstname": f"B{i}"} for i in range(101)]
    records[7]["email"] = "not an e-mail"

    result = write("hubspot", "contacts", "upsert", records)

    assert result.written == 1  # the second batch of one
    assert len(result.rejected) == 100
    assert all("Email address not an e-mail is invalid" in reason for _, reason in result.rejected)
    requests = logged(sandbox, "hubspot")  # (the log keeps 4 KB of each body)
    assert [r["status"] for r in requests] == [400, 200]
    assert requests[1]["body"].count('"idProperty"') == 1
    assert "bulk100@example.com" in by_email(read_all("hubspot", "contacts"))


def test_a_mode_the_template_does_not_offer_names_the_ones_it_does(
    gateway: Gateway, connect: Callable[[str], Connection]
) -> None:
    warehouse = connect("warehouse")
    with pytest.raises(InputError, match="offers only: create"):
        StreamWriter(gateway, warehouse, stream_of(warehouse, "table_rows"), "upsert")
    hubspot = connect("hubspot")
    with pytest.raises(InputError, match="read only"):
        StreamWriter(gateway, hubspot, stream_of(hubspot, "deals"), "create")


def test_a_failure_that_is_not_about_the_records_stops_the_write(
    gateway: Gateway, connect: Callable[[str], Connection]
) -> None:
    hubspot = connect("hubspot")
    wrong = Connection(None, "x", hubspot.template, hubspot.base_url, {"access_token": "pat-x-y"})
    writer = StreamWriter(gateway, wrong, stream_of(wrong, "contacts"), "upsert")
    with pytest.raises(AuthenticationFailed):
        writer.write([{"email": "a@example.com"}])


# --- BigQuery --------------------------------------------------------------------------------


def test_bigquery_rejects_the_row_with_an_unknown_column_and_inserts_the_others(
    write, read_all, sandbox: httpx.Client
) -> None:
    rows = [
        {"date": "2026-11-02", "campaign_id": "c-1", "clicks": 3},
        {"date": "2026-11-02", "campaign_id": "c-2", "colour": "blue"},
        {"date": "2026-11-02", "campaign_id": "c-3", "impressions": "12"},
    ]

    result = write("warehouse", "table_rows", "create", rows)

    assert result == WriteResult(2, [("#1", "colour: no such field: colour.")])
    inserts = [json.loads(r["body"]) for r in logged(sandbox, "bigquery")]
    assert [len(body["rows"]) for body in inserts] == [3, 2]  # the held-back rows, once more
    table = read_all("warehouse", "table_rows")
    assert len(table) == 362
    assert [(r["campaign_id"], r["clicks"], r["impressions"]) for r in table[-2:]] == [
        ("c-1", "3", None),
        ("c-3", None, "12"),
    ]


# --- Mailchimp -------------------------------------------------------------------------------


def test_mailchimp_upsert_by_subscriber_hash(
    write, read_all, sandbox: httpx.Client, gateway: Gateway, connect
) -> None:
    result = write(
        "mailchimp",
        "members",
        "upsert",
        [
            {"email_address": "Zoe.New@Example.com", "merge_fields": {"FNAME": "Zoe"}},
            {"email_address": "not-an-address"},
            {"merge_fields": {"FNAME": "Nobody"}},
        ],
    )

    assert result.written == 1
    assert dict(result.rejected) == {
        "not-an-address": "Please provide a valid email address.",
        "#2": "has no email_address, which identifies it at the vendor.",
    }
    digest = hashlib.md5(b"zoe.new@example.com").hexdigest()
    first_put = logged(sandbox, "mailchimp")[0]
    assert first_put["method"] == "PUT"
    assert first_put["vendor_path"] == f"/3.0/lists/a1b2c3d4e5/members/{digest}"
    assert json.loads(first_put["body"]) == {
        "email_address": "Zoe.New@Example.com",
        "status_if_new": "subscribed",
        "merge_fields": {"FNAME": "Zoe"},
    }
    members = {m["id"]: m for m in read_all("mailchimp", "members")}
    assert members[digest]["status"] == "subscribed"
    assert members[digest]["merge_fields"]["FNAME"] == "Zoe"

    # the same address again updates the member in place
    again = write(
        "mailchimp",
        "members",
        "upsert",
        [{"email_address": "zoe.new@example.com", "merge_fields": {"LNAME": "Quinn"}}],
    )
    assert again == WriteResult(1, [])
    members = {m["id"]: m for m in read_all("mailchimp", "members")}
    assert len(members) == 251
    assert members[digest]["merge_fields"]["LNAME"] == "Quinn"


def test_write_calls_count_in_the_run_context(
    gateway: Gateway, connect: Callable[[str], Connection]
) -> None:
    context = CallContext()
    mailchimp = connect("mailchimp")
    writer = StreamWriter(
        gateway, mailchimp, stream_of(mailchimp, "members"), "upsert", context=context
    )
    writer.write([{"email_address": f"m{i}@example.com"} for i in range(3)])
    assert context.requests == 3
