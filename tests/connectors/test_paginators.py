"""The pagination styles' decisions, fed answers directly (no I/O)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from core.connectors.paginators import PageRequest, next_link, paginator_for
from core.connectors.template import (
    CursorPagination,
    NextUrlPagination,
    OffsetPagination,
    PageNumberPagination,
)
from core.errors import ConfigurationError, InvalidResponse
from core.gateway import GatewayResponse

FIRST = PageRequest("/items", {"limit": "10"})


def answer(body: Any, url: str = "https://api.test/v2/items", **headers: str) -> GatewayResponse:
    return GatewayResponse(200, body, httpx.Headers(headers), url, 1.0)


def test_link_header_next_among_other_relations() -> None:
    header = '<https://a.test/x?p=1>; rel="prev", <https://a.test/x?p=3>; rel="next last"'
    assert next_link(header) == "https://a.test/x?p=3"
    assert next_link('<https://a.test/x?p=1>; rel="prev"') is None
    assert next_link(None) is None


@pytest.mark.parametrize(
    ("base_url", "link", "expected"),
    [
        (
            "https://acme.my.test",
            "/services/q/01g-2000",
            "https://acme.my.test/services/q/01g-2000",
        ),
        (
            "http://127.0.0.1:1/salesforce",
            "/services/q/1",
            "http://127.0.0.1:1/salesforce/services/q/1",
        ),
        ("https://api.test/v2", "/v2/items?page=2", "https://api.test/v2/items?page=2"),
        ("https://api.test/v2", "items?page=2", "https://api.test/v2/items?page=2"),
        ("https://api.test", "https://other.test/n?c=1", "https://other.test/n?c=1"),
    ],
)
def test_relative_next_urls_resolve_against_the_base_url(
    base_url: str, link: str, expected: str
) -> None:
    pager = paginator_for(
        NextUrlPagination(type="next_url", next_url_path="next"), FIRST, base_url=base_url
    )
    pager.first_request()
    following = pager.next_request(answer({"next": link}), 10)
    assert following == PageRequest(expected, {}, None)
    assert pager.state == {"kind": "next_url", "url": expected}


def test_an_api_key_in_the_query_never_reaches_the_stored_state() -> None:
    pager = paginator_for(
        NextUrlPagination(type="next_url", link_header=True),
        FIRST,
        private_params=frozenset({"api_key"}),
    )
    pager.first_request()
    pager.next_request(answer([], link='<https://a.test/x?api_key=s3cret&p=2>; rel="next"'), 5)
    assert pager.state == {"kind": "next_url", "url": "https://a.test/x?p=2"}


def test_offset_trusts_the_total_over_a_page_the_vendor_capped() -> None:
    config = OffsetPagination(
        type="offset", offset_param="offset", limit_param="count", limit=5000, total_path="total"
    )
    pager = paginator_for(config, FIRST)
    assert pager.first_request().params == {"limit": "10", "offset": "0", "count": "5000"}
    following = pager.next_request(answer({"total": 2500}), 1000)
    assert following.params["offset"] == "1000"
    assert pager.next_request(answer({"total": 2500}), 1000).params["offset"] == "2000"
    assert pager.next_request(answer({"total": 2500}), 500) is None
    assert pager.state is None


def test_offset_without_a_total_stops_on_a_short_page() -> None:
    config = OffsetPagination(type="offset", offset_param="o", limit_param="l", limit=10)
    pager = paginator_for(config, FIRST, page_size=3)
    pager.first_request()
    assert pager.next_request(answer({}), 3) is not None
    assert pager.next_request(answer({}), 2) is None


def test_page_numbers_from_zero_stop_after_the_last_of_total_pages() -> None:
    config = PageNumberPagination(
        type="page_number", page_param="p", first_page=0, total_pages_path="pages"
    )
    pager = paginator_for(config, FIRST)
    assert pager.first_request().params["p"] == "0"
    assert pager.next_request(answer({"pages": 2}), 100).params == {"limit": "10", "p": "1"}
    assert pager.state == {"kind": "page_number", "page": 1}
    assert pager.next_request(answer({"pages": 2}), 100) is None


def test_cursor_in_the_body_and_a_cursor_sent_twice() -> None:
    config = CursorPagination(
        type="cursor", cursor_path="nextPageToken", cursor_param="pageToken", in_body=True
    )
    pager = paginator_for(config, PageRequest("/search", {}, {"query": "SELECT"}))
    pager.first_request()
    following = pager.next_request(answer({"nextPageToken": "t1"}), 10)
    assert following.json_body == {"query": "SELECT", "pageToken": "t1"}
    with pytest.raises(InvalidResponse, match="same next-page position twice"):
        pager.next_request(answer({"nextPageToken": "t1"}), 10)


def test_an_unknown_kind_names_the_valid_ones() -> None:
    with pytest.raises(ConfigurationError, match="cursor, next_url, none, offset, page_number"):
        paginator_for(SimpleNamespace(type="scroll"), FIRST)  # type: ignore[arg-type]
