"""The gateway: credentials on the request, and every failure in plain words."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from core.connectors.catalog import default_catalog
from core.connectors.registry import Connection
from core.errors import (
    AuthenticationFailed,
    BadRequest,
    EndpointNotFound,
    HostUnreachable,
    InvalidResponse,
    PermissionMissing,
    RateLimited,
    RequestTimedOut,
    VendorUnavailable,
    Whose,
)
from core.gateway import Gateway

CATALOG = default_catalog()


def connection(
    template_id: str, values: dict[str, str], base_url: str = "https://api.test"
) -> Connection:
    return Connection(1, "test", CATALOG.get(template_id), base_url, values)


def gateway_with(handler, sleeps: list[float] | None = None, **options) -> Gateway:
    """A gateway over a handler; its waits are recorded instead of slept."""
    sink = sleeps if sleeps is not None else []
    return Gateway(transport=httpx.MockTransport(handler), sleep=sink.append, **options)


def test_bearer_token_and_template_placeholders_are_applied():
    seen = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen["auth"] = request.headers["Authorization"]
        seen["url"] = str(request.url)
        return httpx.Response(200, json={"results": []})

    conn = connection("hubspot", {"access_token": "pat-na1-abc"})
    response = gateway_with(handler).call(
        conn, "GET", "/crm/v3/objects/contacts", params={"limit": 1}
    )
    assert seen["auth"] == "Bearer pat-na1-abc"
    assert seen["url"] == "https://api.test/crm/v3/objects/contacts?limit=1"
    assert response.status == 200 and response.body == {"results": []}


def test_basic_auth_for_mailchimp_uses_the_key_as_password():
    seen = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen["auth"] = request.headers["Authorization"]
        return httpx.Response(200, json={"health_status": "Everything's Chimpy!"})

    conn = connection(
        "mailchimp", {"api_key": "k" * 32 + "-us1", "dc": "us1"}, "https://{dc}.api.test"
    )
    gateway_with(handler).call(conn, "GET", "/3.0/ping")
    user, _, password = base64.b64decode(seen["auth"].split()[1]).decode().partition(":")
    assert password == "k" * 32 + "-us1"


def test_an_empty_optional_header_is_not_sent():
    seen = {}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/token"):
            return httpx.Response(200, json={"access_token": "t1", "expires_in": 3600})
        seen.update(request.headers)
        return httpx.Response(200, json={"results": []})

    values = {
        "developer_token": "dev-1",
        "login_customer_id": "",
        "customer_id": "1234567890",
        "client_id": "c",
        "client_secret": "s",
        "refresh_token": "r",
        "token_url": "https://api.test/token",
    }
    conn = connection("google_ads", values)
    check = conn.template.check
    gateway_with(handler).call(
        conn, check.method, check.path, headers=check.headers, json_body=check.body
    )
    assert seen["developer-token"] == "dev-1"
    assert "login-customer-id" not in seen
    assert seen["authorization"] == "Bearer t1"


@pytest.mark.parametrize(
    ("status", "error", "words", "whose"),
    [
        (400, BadRequest, "malformed (400)", Whose.CONFIGURATION),
        (401, AuthenticationFailed, "wrong key", Whose.CONFIGURATION),
        (403, PermissionMissing, "lack permission (403)", Whose.CONFIGURATION),
        (404, EndpointNotFound, "(404)", Whose.CONFIGURATION),
        (429, RateLimited, "rate limiting", Whose.TRANSIENT),
        (503, VendorUnavailable, "is failing (503)", Whose.VENDOR),
    ],
)
def test_each_status_becomes_a_plain_error(status, error, words, whose):
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json={"message": "vendor detail here"})

    conn = connection("stripe", {"secret_key": "sk_test_x"})
    with pytest.raises(error) as caught:
        gateway_with(handler).call(conn, "GET", "/v1/balance")
    assert words in caught.value.message
    assert "vendor detail here" in caught.value.message
    assert caught.value.whose == whose
    assert caught.value.fix


def test_retry_after_as_an_http_date_is_understood():
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, headers={"Retry-After": when}, json={})

    with pytest.raises(RateLimited) as caught:
        gateway_with(handler).call(connection("stripe", {"secret_key": "x"}), "GET", "/v1/balance")
    assert 20 < caught.value.retry_after <= 30


def test_expired_oauth_token_is_refreshed_once_and_the_call_retried():
    tokens = iter(["old-token", "new-token"])
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/token":
            return httpx.Response(200, json={"access_token": next(tokens), "expires_in": 3600})
        calls.append(request.headers["Authorization"])
        if request.headers["Authorization"] == "Bearer old-token":
            return httpx.Response(401, json={"error": {"message": "expired"}})
        return httpx.Response(200, json={"ok": True})

    values = {
        "client_id": "c",
        "client_secret": "s",
        "token_url": "https://api.test/token",
        "my_domain": "x",
    }
    response = gateway_with(handler).call(
        connection("salesforce", values), "GET", "/services/data/v60.0/"
    )
    assert calls == ["Bearer old-token", "Bearer new-token"]
    assert response.body == {"ok": True}


def test_a_refused_client_secret_is_a_credentials_problem():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            400, json={"error": "invalid_client", "error_description": "invalid client credentials"}
        )

    values = {
        "client_id": "c",
        "client_secret": "wrong",
        "token_url": "https://api.test/token",
        "my_domain": "x",
    }
    with pytest.raises(AuthenticationFailed, match="invalid client credentials"):
        gateway_with(handler).call(connection("salesforce", values), "GET", "/services/data/v60.0/")


def test_a_body_that_is_not_json_is_reported():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text='{"data": [1, 2')

    with pytest.raises(InvalidResponse, match="not valid JSON"):
        gateway_with(handler).call(connection("stripe", {"secret_key": "x"}), "GET", "/v1/balance")


def test_timeouts_and_dns_failures_are_told_apart():
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    def no_dns(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno -2] Name or service not known", request=request)

    conn = connection("stripe", {"secret_key": "x"})
    with pytest.raises(RequestTimedOut) as slow_error:
        gateway_with(slow).call(conn, "GET", "/v1/balance")
    assert slow_error.value.retryable
    with pytest.raises(HostUnreachable, match="cannot be found"):
        gateway_with(no_dns).call(conn, "GET", "/v1/balance")


def test_a_closed_port_is_unreachable_for_real():
    conn = connection("stripe", {"secret_key": "x"}, "http://127.0.0.1:9")
    with pytest.raises(HostUnreachable, match=r"127\.0\.0\.1:9 is unreachable"):
        Gateway(timeout_seconds=3).call(conn, "GET", "/v1/balance")


def test_a_connection_never_shows_its_secrets():
    conn = connection("stripe", {"secret_key": "sk_test_hidden"})
    assert "sk_test_hidden" not in repr(conn)
    assert "sk_test_hidden" not in json.dumps(str(conn))


def scripted(*responses):
    """A handler answering with the given (status, headers, body) in turn; counts calls."""
    answers = list(responses)
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        status, headers, body = answers.pop(0) if len(answers) > 1 else answers[0]
        return httpx.Response(status, headers=headers, json=body)

    handler.seen = seen
    return handler


def test_429_waits_for_retry_after_then_succeeds():
    from core.gateway import CallContext

    handler = scripted((429, {"Retry-After": "2"}, {}), (200, {}, {"ok": 1}))
    sleeps: list[float] = []
    context = CallContext(run_id=7)
    response = gateway_with(handler, sleeps).call(
        connection("stripe", {"secret_key": "x"}), "GET", "/v1/customers", context=context
    )
    assert response.body == {"ok": 1}
    assert sleeps == [2.0]
    assert (context.requests, context.retries, context.rate_limited) == (2, 1, 1)


def test_a_5xx_burst_backs_off_exponentially_then_succeeds():
    handler = scripted(*([(503, {}, {})] * 3), (200, {}, {"ok": 1}))
    sleeps: list[float] = []
    gateway_with(handler, sleeps).call(connection("stripe", {"secret_key": "x"}), "GET", "/v1/x")
    assert len(sleeps) == 3
    for attempt, wait in enumerate(sleeps, start=1):
        ceiling = 0.5 * 2 ** (attempt - 1)
        assert ceiling / 2 <= wait <= ceiling


def test_retries_are_bounded_and_400_is_never_retried():
    always_503 = scripted((503, {}, {}))
    with pytest.raises(VendorUnavailable):
        gateway_with(always_503).call(connection("stripe", {"secret_key": "x"}), "GET", "/v1/x")
    assert len(always_503.seen) == 5
    bad = scripted((400, {}, {"error": {"message": "bad param"}}))
    with pytest.raises(BadRequest, match="bad param"):
        gateway_with(bad).call(connection("stripe", {"secret_key": "x"}), "GET", "/v1/x")
    assert len(bad.seen) == 1


def test_a_retry_after_beyond_the_limit_fails_at_once_saying_when():
    handler = scripted((429, {"Retry-After": "3600"}, {}))
    with pytest.raises(RateLimited, match="wait 3600 s"):
        gateway_with(handler).call(connection("stripe", {"secret_key": "x"}), "GET", "/v1/x")
    assert len(handler.seen) == 1


def test_test_connection_mode_does_not_retry():
    handler = scripted((503, {}, {}))
    with pytest.raises(VendorUnavailable):
        gateway_with(handler).call(
            connection("stripe", {"secret_key": "x"}), "GET", "/v1/x", retry=False
        )
    assert len(handler.seen) == 1


def test_every_attempt_is_recorded_with_its_outcome():
    records = []
    handler = scripted((503, {}, {}), (200, {}, {}))
    gateway_with(handler, recorder=records.append).call(
        connection("stripe", {"secret_key": "x"}), "GET", "/v1/customers"
    )
    assert [(r.status, r.outcome, r.attempt) for r in records] == [
        (503, "retry", 1),
        (200, "ok", 2),
    ]
    assert records[0].path == "/v1/customers" and records[0].host == "api.test"


def test_the_rate_budget_spaces_calls_of_one_connector():
    from core.connectors.template import RateLimit

    template = CATALOG.get("stripe").model_copy(
        update={"rate_limit": RateLimit(per_second=2, burst=2)}
    )
    conn = Connection(5, "budgeted", template, "https://api.test", {"secret_key": "x"})
    sleeps: list[float] = []
    gateway = gateway_with(scripted((200, {}, {})), sleeps)
    for _ in range(4):
        gateway.call(conn, "GET", "/v1/x")
    assert sleeps and all(wait > 0 for wait in sleeps)


def test_a_plain_text_answer_is_a_success_when_json_is_not_expected():
    """Slack's incoming webhooks answer ``ok`` as text."""
    handler = scripted((200, {}, None))

    def text_handler(request: httpx.Request) -> httpx.Response:
        handler(request)
        return httpx.Response(200, text="ok")

    response = gateway_with(text_handler).call(
        connection("stripe", {"secret_key": "x"}), "POST", "/hook", expect_json=False
    )
    assert (response.status, response.body) == (200, "ok")
    with pytest.raises(InvalidResponse):
        gateway_with(text_handler).call(connection("stripe", {"secret_key": "x"}), "GET", "/x")
