"""Reading streams for real, over loopback HTTP against the sandbox: every pagination
style, resuming, incremental reads, faults through the gateway and clear errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

import httpx
import pytest

from core.connectors.reader import (
    Page,
    StreamReader,
    format_cursor,
    parse_cursor,
    record_key,
)
from core.connectors.records import value_at
from core.connectors.registry import Connection
from core.connectors.template import Stream
from core.errors import ConfigurationError, EndpointNotFound, InputError, InvalidResponse
from core.gateway import CallContext, Gateway
from tests.connectors.sandbox_control import fault, logged, resize


@dataclass(frozen=True)
class Walk:
    """One pagination style, as a template's stream meets it in the sandbox."""

    template: str
    stream: str
    # the fields that identify a record together
    identity: tuple[str, ...]
    expected: int
    pages: int
    page_size: int | None = None
    # (vendor, object, count) to resize first
    dataset: tuple[str, str, int] | None = None
    vendor: str = ""
    # connector values to change (another table)
    values: dict[str, str] = field(default_factory=dict)


WALKS = {
    "hubspot cursor": Walk("hubspot", "contacts", ("id",), 250, 3, vendor="hubspot"),
    "stripe data.-1.id": Walk("stripe", "customers", ("id",), 200, 2, vendor="stripe"),
    "mailchimp offset": Walk(
        "mailchimp", "members", ("id",), 250, 3, page_size=100, vendor="mailchimp"
    ),
    "custom page_number": Walk(
        "custom_rest_api", "leads", ("id",), 250, 3, page_size=100, vendor="custom"
    ),
    "custom offset": Walk(
        "custom_rest_api", "events", ("id",), 500, 4, page_size=150, vendor="custom"
    ),
    "custom Link header": Walk("custom_rest_api", "orders", ("id",), 180, 2, vendor="custom"),
    "custom next URL in body": Walk(
        "custom_rest_api", "activities", ("id",), 300, 3, vendor="custom"
    ),
    "salesforce nextRecordsUrl": Walk(
        "salesforce",
        "contacts",
        ("Id",),
        4100,
        3,
        dataset=("salesforce", "Contact", 4100),
        vendor="salesforce",
    ),
    "ga4 offset in body": Walk(
        "google_analytics_4",
        "traffic_by_source",
        ("date", "sessionSource", "sessionMedium", "sessionCampaignName"),
        240,
        3,
        page_size=100,
        vendor="ga4",
    ),
    "google ads pageToken in body": Walk(
        "google_ads",
        "campaign_spend",
        ("campaign.id", "segments.date"),
        340 * 30,
        2,
        dataset=("google_ads", "campaigns", 340),
        vendor="google_ads",
    ),
    "bigquery rows + schema": Walk(
        "warehouse",
        "table_rows",
        ("event_timestamp",),
        2500,
        3,
        dataset=("bigquery", "ga4_events", 2500),
        vendor="bigquery",
        values={"table_id": "ga4_events"},
    ),
}


def stream_of(connection: Connection, name: str) -> Stream:
    return next(s for s in connection.template.streams if s.name == name)


def identity(record: dict[str, Any], fields: tuple[str, ...]) -> tuple[Any, ...]:
    return tuple(value_at(record, f) for f in fields)


def records_of(pages: list[Page]) -> list[dict[str, Any]]:
    return [r for p in pages for r in p.records]


@pytest.fixture
def reader_for(
    gateway: Gateway, connect: Callable[[str], Connection]
) -> Callable[..., StreamReader]:
    """``reader_for(template_id, stream_name, **options)``: a reader on the sandbox."""

    def make(
        template_id: str, stream: str | Stream, values: dict[str, str] | None = None, **options: Any
    ) -> StreamReader:
        connection = connect(template_id)
        if values:
            connection = replace(connection, values={**connection.values, **values})
        if isinstance(stream, str):
            stream = stream_of(connection, stream)
        return StreamReader(gateway, connection, stream, **options)

    return make


# --- whole walks and resuming ------------------------------------------------------------


@pytest.mark.parametrize("walk", WALKS.values(), ids=list(WALKS))
def test_every_pagination_style_walks_the_whole_dataset_and_resumes(
    sandbox: httpx.Client, reader_for: Callable[..., StreamReader], walk: Walk
) -> None:
    if walk.dataset:
        resize(sandbox, *walk.dataset)
    options = {"page_size": walk.page_size, "values": walk.values}
    pages = list(reader_for(walk.template, walk.stream, **options).pages())

    keys = [identity(r, walk.identity) for r in records_of(pages)]
    assert len(keys) == walk.expected
    assert len(set(keys)) == walk.expected, "a record came twice"
    assert len(pages) == walk.pages
    assert [p.resume is None for p in pages] == [False] * (walk.pages - 1) + [True]
    assert sum(p.raw_count for p in pages) == walk.expected
    # one request per page: the last page is known to be the last (no empty extra page)
    requests = [r for r in logged(sandbox, walk.vendor) if "token" not in r["path"]]
    schema_reads = 1 if walk.template == "warehouse" else 0  # tables.get, once
    assert len(requests) == walk.pages + schema_reads

    # a worker killed after committing page 1 resumes from its (JSON-stored) state
    state = json.loads(json.dumps(pages[0].resume))
    resumed = list(reader_for(walk.template, walk.stream, resume=state, **options).pages())
    assert [identity(r, walk.identity) for r in records_of(resumed)] == keys[
        len(pages[0].records) :
    ]
    assert resumed[-1].resume is None


def test_resume_states_are_small_plain_dicts_per_kind(
    reader_for: Callable[..., StreamReader], sandbox: httpx.Client
) -> None:
    first = {
        "cursor": next(reader_for("hubspot", "contacts").pages()).resume,
        "offset": next(reader_for("mailchimp", "members", page_size=100).pages()).resume,
        "page_number": next(reader_for("custom_rest_api", "leads", page_size=100).pages()).resume,
        "next_url": next(reader_for("custom_rest_api", "activities").pages()).resume,
    }
    assert first["cursor"] == {"kind": "cursor", "cursor": "1101"}
    assert first["offset"] == {"kind": "offset", "offset": 100}
    assert first["page_number"] == {"kind": "page_number", "page": 2}
    assert first["next_url"]["kind"] == "next_url"
    assert first["next_url"]["url"].startswith(f"{sandbox.base_url}/custom/api/v1/activities?")


def test_a_stripe_walk_stops_on_has_more_false_without_an_empty_extra_page(
    sandbox: httpx.Client, reader_for: Callable[..., StreamReader]
) -> None:
    pages = list(reader_for("stripe", "charges").pages())
    assert sum(len(p.records) for p in pages) == 400
    requests = logged(sandbox, "stripe")
    assert len(requests) == 4
    assert "starting_after" not in requests[0]["params"]
    # each page starts after the last object of the one before (data.-1.id)
    for page, request in zip(pages, requests[1:], strict=False):
        assert request["params"]["starting_after"] == page.records[-1]["id"]


def test_report_rows_are_flat_records_named_by_their_headers(
    reader_for: Callable[..., StreamReader],
) -> None:
    ga4 = next(reader_for("google_analytics_4", "traffic_by_source", page_size=5).pages())
    row = ga4.records[0]
    assert set(row) == {
        "date",
        "sessionSource",
        "sessionMedium",
        "sessionCampaignName",
        "sessions",
        "totalUsers",
        "keyEvents",
    }
    assert len(row["date"]) == 8 and row["date"].isdigit()  # YYYYMMDD, as GA4 sends it
    assert isinstance(row["sessions"], str) and row["sessions"].isdigit()

    bigquery = next(reader_for("warehouse", "table_rows").pages())
    assert set(bigquery.records[0]) == {
        "date",
        "campaign_id",
        "campaign_name",
        "impressions",
        "clicks",
        "cost_micros",
        "currency",
    }


def test_record_key_follows_a_dotted_and_composite_primary_key(
    connect: Callable[[str], Connection],
) -> None:
    ads = stream_of(connect("google_ads"), "campaign_spend")
    row = {"campaign": {"id": "42"}, "segments": {"date": "2026-10-01"}}
    assert record_key(ads, row) == "42|2026-10-01"
    assert record_key(ads, {"campaign": {"id": "42"}, "segments": {}}) == ""


# --- incremental reads -------------------------------------------------------------------


def test_incremental_with_a_query_param_sends_since_minus_lookback(
    sandbox: httpx.Client, reader_for: Callable[..., StreamReader]
) -> None:
    everything = records_of(list(reader_for("mailchimp", "members", page_size=1000).pages()))
    since = everything[200]["last_changed"]  # members come in last_changed order
    sandbox.post("/_control/requests/clear")

    pages = list(reader_for("mailchimp", "members", page_size=1000, since=since).pages())

    sent = logged(sandbox, "mailchimp")[0]["params"]["since_last_changed"]
    threshold = parse_cursor(since, "iso8601") - timedelta(minutes=5)
    assert sent == format_cursor(threshold, "iso8601")
    newer = [r["id"] for r in everything if parse_cursor(r["last_changed"], "iso8601") > threshold]
    assert [r["id"] for r in records_of(pages)] == newer
    assert 49 <= len(newer) < 60
    assert pages[-1].max_cursor == format_cursor(
        parse_cursor(everything[-1]["last_changed"], "iso8601"), "iso8601"
    )


def test_incremental_in_unix_seconds_for_stripe(
    sandbox: httpx.Client, reader_for: Callable[..., StreamReader]
) -> None:
    everything = records_of(list(reader_for("stripe", "customers").pages()))
    since = str(everything[50]["created"])  # newest first
    sandbox.post("/_control/requests/clear")

    got = records_of(list(reader_for("stripe", "customers", since=since).pages()))

    assert logged(sandbox, "stripe")[0]["params"]["created[gte]"] == since
    assert [r["id"] for r in got] == [r["id"] for r in everything if r["created"] >= int(since)]
    assert len(got) >= 51


def test_incremental_without_a_param_reads_everything_and_keeps_the_newer(
    sandbox: httpx.Client, reader_for: Callable[..., StreamReader]
) -> None:
    full = list(reader_for("hubspot", "contacts").pages())
    everything = records_of(full)
    since = everything[180]["updatedAt"]
    sandbox.post("/_control/requests/clear")

    pages = list(reader_for("hubspot", "contacts", since=since).pages())

    requests = logged(sandbox, "hubspot")
    assert len(requests) == 3  # HubSpot's list cannot filter: every page is read
    assert not any("since" in k or "updated" in k for r in requests for k in r["params"])
    threshold = parse_cursor(since, "iso8601") - timedelta(minutes=5)
    expected = [r["id"] for r in everything if parse_cursor(r["updatedAt"], "iso8601") > threshold]
    assert [r["id"] for r in records_of(pages)] == expected
    assert 69 <= len(expected) < 80  # record 180 onwards, plus those within the lookback
    assert sum(p.raw_count for p in pages) == 250
    assert [p.max_cursor for p in pages] == [p.max_cursor for p in full]


def test_incremental_on_report_dates_keeps_the_days_after_since_minus_lookback(
    reader_for: Callable[..., StreamReader],
) -> None:
    pages = list(reader_for("google_analytics_4", "traffic_by_source", since="2026-10-25").pages())
    dates = {r["date"] for r in records_of(pages)}
    # three days of lookback: the 22nd is not newer than the 22nd; the 23rd on are kept
    assert dates == {f"202610{d}" for d in range(23, 32)}
    assert pages[-1].max_cursor == "2026-10-31"


def test_since_that_is_no_time_is_refused(reader_for: Callable[..., StreamReader]) -> None:
    with pytest.raises(InputError, match="Since"):
        reader_for("hubspot", "contacts", since="last tuesday")


def test_cursor_values_in_every_format() -> None:
    assert format_cursor(parse_cursor("2026-08-03T10:00:00.000+0000", "iso8601"), "iso8601") == (
        "2026-08-03T10:00:00.000Z"
    )
    assert format_cursor(parse_cursor("20261029", "date"), "date") == "2026-10-29"
    assert format_cursor(parse_cursor(1793347500, "unix"), "iso8601") == "2026-10-30T08:05:00.000Z"
    assert format_cursor(parse_cursor("1793347500123", "unix_ms"), "unix_ms") == "1793347500123"
    assert parse_cursor("soon", "iso8601") is None


# --- faults through the gateway ----------------------------------------------------------


def test_a_429_with_retry_after_mid_walk_is_waited_out(
    sandbox: httpx.Client, reader_for: Callable[..., StreamReader]
) -> None:
    context = CallContext()
    reader = reader_for("hubspot", "contacts", context=context)
    pages = reader.pages()
    first = next(pages)
    fault(sandbox, "hubspot", "rate_limit", count=2, retry_after="2")
    rest = list(pages)
    assert len({r["id"] for r in records_of([first, *rest])}) == 250
    assert context.rate_limited == 2
    assert [r["status"] for r in logged(sandbox, "hubspot")] == [200, 429, 429, 200, 200]


def test_a_burst_of_server_errors_is_retried_and_the_walk_completes(
    sandbox: httpx.Client, reader_for: Callable[..., StreamReader]
) -> None:
    fault(sandbox, "custom", "server_error", count=3, status=503)
    context = CallContext()
    pages = list(reader_for("custom_rest_api", "events", page_size=100, context=context).pages())
    assert len({r["id"] for r in records_of(pages)}) == 500
    assert context.retries == 3


@pytest.mark.parametrize(
    ("template", "stream", "vendor", "expected", "dataset"),
    [
        ("google_ads", "campaign_spend", "google_ads", 340 * 30, ("google_ads", "campaigns", 340)),
        ("salesforce", "contacts", "salesforce", 4100, ("salesforce", "Contact", 4100)),
    ],
)
def test_tokens_expiring_in_the_middle_of_a_walk_are_refreshed(
    sandbox: httpx.Client,
    reader_for: Callable[..., StreamReader],
    template: str,
    stream: str,
    vendor: str,
    expected: int,
    dataset: tuple[str, str, int],
) -> None:
    resize(sandbox, *dataset)
    fault(sandbox, vendor, "expire_tokens", after_requests=1)
    context = CallContext()
    pages = list(reader_for(template, stream, context=context).pages())
    assert len(records_of(pages)) == expected
    statuses = [r["status"] for r in logged(sandbox, vendor) if "token" not in r["path"]]
    assert statuses.count(401) == 1 and statuses[-1] == 200
    assert context.retries == 1


# --- clear errors ------------------------------------------------------------------------


def test_a_wrong_record_path_names_the_path_and_what_the_answer_has(
    reader_for: Callable[..., StreamReader], connect: Callable[[str], Connection]
) -> None:
    stripe = stream_of(connect("stripe"), "customers").model_copy(update={"record_path": "results"})
    with pytest.raises(InvalidResponse) as caught:
        next(reader_for("stripe", stripe).pages())
    assert "records not found at 'results'; the answer has: object, data, has_more" in str(
        caught.value
    )


def test_an_empty_google_answer_is_an_empty_page_not_a_wrong_path(
    sandbox: httpx.Client, reader_for: Callable[..., StreamReader]
) -> None:
    resize(sandbox, "bigquery", "ad_spend", 0)
    pages = list(reader_for("warehouse", "table_rows").pages())
    assert [(p.records, p.resume, p.raw_count) for p in pages] == [([], None, 0)]


def test_a_body_that_stays_truncated_fails_clearly_after_the_gateway_retries(
    sandbox: httpx.Client, reader_for: Callable[..., StreamReader]
) -> None:
    fault(sandbox, "hubspot", "truncated_json", count=50)
    with pytest.raises(InvalidResponse, match="not valid JSON"):
        list(reader_for("hubspot", "contacts").pages())
    assert len(logged(sandbox, "hubspot")) == 5  # the gateway's attempts, no more


def test_a_stream_path_that_does_not_exist_is_a_404_naming_the_url(
    reader_for: Callable[..., StreamReader], connect: Callable[[str], Connection]
) -> None:
    wrong = stream_of(connect("hubspot"), "contacts").model_copy(
        update={"path": "/crm/v3/objects/contactz"}
    )
    with pytest.raises(EndpointNotFound, match="contactz"):
        list(reader_for("hubspot", wrong).pages())


def test_a_cursor_field_missing_from_records_is_named(
    reader_for: Callable[..., StreamReader], connect: Callable[[str], Connection]
) -> None:
    contacts = stream_of(connect("hubspot"), "contacts")
    incremental = contacts.incremental.model_copy(update={"cursor_field": "modifiedAt"})
    broken = contacts.model_copy(update={"incremental": incremental})
    with pytest.raises(InvalidResponse) as caught:
        next(reader_for("hubspot", broken).pages())
    assert "cursor field 'modifiedAt' missing from records; check the stream's incremental" in str(
        caught.value
    )


def test_a_resume_state_of_another_pagination_kind_is_refused(
    reader_for: Callable[..., StreamReader],
) -> None:
    reader = reader_for("hubspot", "contacts", resume={"kind": "offset", "offset": 100})
    with pytest.raises(ConfigurationError, match="does not fit"):
        next(reader.pages())
