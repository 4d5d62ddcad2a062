"""The gateway: every outbound call to a vendor goes through here.

It fills the template's placeholders, puts the connector's credentials on the request,
sends it through one ``httpx.Client`` (whose transport is the real network, or a handler
in unit tests), measures it, and translates every failure — an HTTP status, a timeout, a
DNS failure, a body that is not JSON — into one error of ``core.errors`` carrying a
plain-language message, the fix and whose problem it is.

The fate of a response is decided in one place, ``fate_of``.
"""

from __future__ import annotations

import json
import random
import re
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

import httpx

from core.connectors.auth import Authenticator, authenticator_for
from core.connectors.registry import Connection
from core.errors import (
    AuthenticationFailed,
    BadRequest,
    ConnectorError,
    EndpointNotFound,
    HostUnreachable,
    InvalidResponse,
    PermissionMissing,
    RateLimited,
    RequestTimedOut,
    VendorUnavailable,
)
from core.rate_budget import RateBudgets

_PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")
USER_AGENT = "Switchboard/0.1 (+marketing data integrations)"


# a path segment of 32 hex digits is a person's hash (Mailchimp's subscriber_hash is the MD5
# of their e-mail): the call log keeps the call, not who it was about
_PERSON_HASH = re.compile(r"/[0-9a-f]{32}(?=/|$)")


def _without_person(path: str) -> str:
    return _PERSON_HASH.sub("/{hash}", path)


class Fate(StrEnum):
    """What becomes of a response."""

    OK = "ok"
    FAIL = "fail"
    RETRY = "retry"
    RATE_LIMITED = "rate limited"
    REFRESH_AND_RETRY = "refresh and retry"


def fate_of(status: int) -> Fate:
    """The one table from status code to fate (SPEC §3's error policy)."""
    if status < 400:
        return Fate.OK
    if status == 401:
        return Fate.REFRESH_AND_RETRY
    if status == 429:
        return Fate.RATE_LIMITED
    if status >= 500:
        return Fate.RETRY
    return Fate.FAIL


@dataclass(frozen=True)
class GatewayResponse:
    """A vendor's answer, parsed."""

    status: int
    body: Any
    headers: httpx.Headers
    url: str
    latency_ms: float


def fill(text: str, values: dict[str, str]) -> str:
    """Replace ``{field}`` placeholders with the connector's values."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), ""), text)


def vendor_message(body: Any) -> str:
    """The human part of a vendor's error body, whatever its vendor's shape."""
    if isinstance(body, list) and body:
        return vendor_message(body[0])
    if not isinstance(body, dict):
        return ""
    error = body.get("error")
    if isinstance(error, dict):
        return str(error.get("message") or error.get("status") or "")
    for key in ("message", "error_description", "detail", "title", "error"):
        if isinstance(body.get(key), str) and body[key]:
            return body[key]
    return ""


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def error_for(status: int, body: Any, url: str, headers: httpx.Headers) -> ConnectorError:
    """Translate a failed status into the error a person can act on."""
    said = vendor_message(body)
    said_part = f" The vendor said: “{said}”." if said else ""
    host = urlsplit(url).hostname or url
    if status == 400:
        return BadRequest(
            f"{host} rejected the request as malformed (400).{said_part}",
            fix="Check the connector's settings (account, property or list ids) and the "
            "stream's parameters.",
            status=status,
        )
    if status == 401:
        return AuthenticationFailed(
            f"{host} did not accept the credentials (401 — wrong key).{said_part}",
            fix="Check the key or token: it may be mistyped, revoked or expired. Paste a fresh "
            "one and test again.",
            status=status,
        )
    if status == 403:
        return PermissionMissing(
            f"{host} accepted the credentials but they lack permission (403).{said_part}",
            fix="Grant the missing scope or permission to this key or app in the vendor's "
            "settings, or use an account that has it.",
            status=status,
        )
    if status == 404:
        return EndpointNotFound(
            f"Nothing was found at {url} (404).{said_part}",
            fix="Check the base URL and the ids in the form (account, property, list).",
            status=status,
        )
    if status == 429:
        wait = _retry_after_seconds(headers.get("Retry-After"))
        when = f" It asks to wait {wait:.0f} s." if wait is not None else ""
        return RateLimited(
            f"{host} is rate limiting this account (429).{when}{said_part}",
            fix="Nothing to change: Switchboard waits and retries. If it persists, lower the "
            "frequency of the flows using this connector.",
            retry_after=wait,
        )
    if status >= 500:
        return VendorUnavailable(
            f"{host} is failing ({status}).{said_part}",
            fix="This is on the vendor's side; Switchboard retries. If it lasts, check the "
            "vendor's status page.",
            status=status,
        )
    return ConnectorError(
        f"{host} answered {status}.{said_part}",
        fix="Check the connector's settings.",
        status=status,
    )


def _transport_error(exc: httpx.TransportError, url: str) -> ConnectorError:
    parts = urlsplit(url)
    host = parts.hostname or url
    if isinstance(exc, httpx.TimeoutException):
        return RequestTimedOut(
            f"{host} did not answer in time.",
            fix="This is usually passing; Switchboard retries. If it lasts, the vendor is slow "
            "or the address is wrong.",
        )
    cause = exc.__cause__ or exc.__context__
    text = str(exc).lower()
    if (
        isinstance(cause, socket.gaierror)
        or "name or service not known" in text
        or ("nodename" in text or "temporary failure in name resolution" in text)
    ):
        return HostUnreachable(
            f"The host name {host} cannot be found (DNS).",
            fix="Check the base URL for typos.",
        )
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return HostUnreachable(
        f"{host}:{port} is unreachable ({exc.__class__.__name__}: connection refused or dropped).",
        fix="Check the base URL and port, and that the service is running and reachable "
        "from this server.",
    )


@dataclass
class CallContext:
    """What a call is for, and the counters a run shows: requests, retries, 429s."""

    integration_id: int | None = None
    run_id: int | None = None
    requests: int = 0
    retries: int = 0
    rate_limited: int = 0


@dataclass(frozen=True)
class CallRecord:
    """One attempt, as stored for quotas and the KPI dashboards."""

    at: datetime
    connector_id: int | None
    integration_id: int | None
    run_id: int | None
    method: str
    host: str
    path: str
    status: int
    latency_ms: float
    attempt: int
    outcome: str


@dataclass(frozen=True)
class RetryPolicy:
    """How hard the gateway tries before it gives up (all of it bounded)."""

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    # a Retry-After longer than this is not waited for: the run fails and says when to retry
    max_retry_after: float = 120.0


class Gateway:
    """Sends requests for connectors; one per process (it pools connections, keeps each
    connector's token and rate budget)."""

    def __init__(
        self,
        *,
        timeout_seconds: float = 15.0,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        budgets: RateBudgets | None = None,
        recorder: Callable[[CallRecord], None] | None = None,
    ) -> None:
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout_seconds),
            transport=transport,
            headers={"User-Agent": USER_AGENT},
            follow_redirects=False,
        )
        self._authenticators: dict[int | None, Authenticator] = {}
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._budgets = budgets or RateBudgets()
        # where each attempt is reported (the call log); None keeps no record
        self.recorder = recorder

    def close(self) -> None:
        self._client.close()

    def _post_token(self, url: str, form: dict[str, str]) -> httpx.Response:
        try:
            return self._client.post(url, data=form, headers={"Accept": "application/json"})
        except httpx.TransportError as exc:
            raise _transport_error(exc, url) from None

    def authenticator(self, connection: Connection) -> Authenticator:
        """One authenticator (and so one cached token) per saved connector."""
        key = connection.connector_id
        if key is None or key not in self._authenticators:
            auth = authenticator_for(connection.template.auth, connection.values, self._post_token)
            if key is None:
                return auth
            self._authenticators[key] = auth
        return self._authenticators[key]

    def forget(self, connector_id: int) -> None:
        """Drop a connector's cached token (its credentials changed)."""
        self._authenticators.pop(connector_id, None)

    def build_request(
        self,
        connection: Connection,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        json_body: Any = None,
    ) -> httpx.Request:
        values = connection.values
        if path.startswith(("http://", "https://")):
            url = path
        else:
            url = fill(connection.base_url, values).rstrip("/") + fill(path, values)
        filled_params = {k: fill(str(v), values) for k, v in (params or {}).items()}
        filled_headers = {k: fill(v, values) for k, v in (headers or {}).items() if fill(v, values)}
        filled_headers.setdefault("Accept", "application/json")
        return self._client.build_request(
            method, url, params=filled_params or None, headers=filled_headers, json=json_body
        )

    def _wait_for_budget(self, connection: Connection) -> None:
        limit = connection.template.rate_limit
        key = connection.budget_key or connection.connector_id
        if limit is None or key is None:
            return
        wait = self._budgets.bucket(key, limit.per_second, limit.burst).take()
        if wait > 0:
            self._sleep(wait)

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter: 0..base·2^attempt, capped."""
        ceiling = min(self.retry.max_delay, self.retry.base_delay * (2 ** (attempt - 1)))
        return random.uniform(ceiling / 2, ceiling)  # noqa: S311  (jitter, not security)

    def _record(
        self,
        connection: Connection,
        context: CallContext | None,
        request: httpx.Request,
        status: int,
        latency_ms: float,
        attempt: int,
        outcome: str,
    ) -> None:
        if self.recorder is None:
            return
        self.recorder(
            CallRecord(
                at=datetime.now(UTC),
                connector_id=connection.connector_id,
                integration_id=context.integration_id if context else None,
                run_id=context.run_id if context else None,
                method=request.method,
                host=request.url.host,
                path=_without_person(request.url.path)[:500],
                status=status,
                latency_ms=latency_ms,
                attempt=attempt,
                outcome=outcome,
            )
        )

    def call(
        self,
        connection: Connection,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        json_body: Any = None,
        context: CallContext | None = None,
        retry: bool = True,
        expect_json: bool = True,
    ) -> GatewayResponse:
        """One logical call, following SPEC §3's error policy.

        401 with a token-based auth: refresh the token and retry once. 429: wait for
        ``Retry-After`` (seconds or HTTP date), else back off. 5xx, timeouts, dropped
        connections and unreadable bodies: back off exponentially with jitter and retry.
        400, 403, 404: fail at once with their fix. Everything is bounded by the retry
        policy; with ``retry=False`` (Test connection) only the token refresh is tried.
        With ``expect_json=False`` a plain-text answer (Slack's "ok") is a success; its
        body is the text.
        Raises a ``ConnectorError`` when the call cannot succeed.
        """
        auth = self.authenticator(connection)
        refreshed = False
        attempt = 0
        while True:
            attempt += 1
            self._wait_for_budget(connection)
            request = self.build_request(
                connection, method, path, params=params, headers=headers, json_body=json_body
            )
            auth.apply(request)
            if context is not None:
                context.requests += 1
            started = time.perf_counter()
            try:
                response = self._client.send(request)
            except httpx.TransportError as exc:
                latency_ms = (time.perf_counter() - started) * 1000
                error = _transport_error(exc, str(request.url))
                self._record(
                    connection,
                    context,
                    request,
                    0,
                    latency_ms,
                    attempt,
                    "retry" if error.retryable else "failed",
                )
                self._retry_or_raise(error, attempt, retry, context)
                continue
            latency_ms = (time.perf_counter() - started) * 1000
            fate = fate_of(response.status_code)
            if fate is Fate.REFRESH_AND_RETRY and not refreshed and auth.refresh():
                refreshed = True
                self._record(connection, context, request, 401, latency_ms, attempt, "retry")
                if context is not None:
                    context.retries += 1
                continue
            body = _parse_body(response)
            if body is _NOT_JSON and not expect_json:
                body = response.text
            if fate is Fate.OK and body is not _NOT_JSON:
                self._record(
                    connection, context, request, response.status_code, latency_ms, attempt, "ok"
                )
                return GatewayResponse(
                    response.status_code, body, response.headers, str(request.url), latency_ms
                )
            if fate is Fate.OK:
                error: ConnectorError = InvalidResponse(
                    f"{request.url.host} answered {response.status_code} but the body is not "
                    "valid JSON (cut off, or an HTML page).",
                    fix="If the base URL points at a web page instead of the API, correct it; "
                    "otherwise the vendor sent a broken answer — Switchboard retries.",
                    status=response.status_code,
                )
            else:
                error = error_for(response.status_code, body, str(request.url), response.headers)
            outcome = (
                "rate_limited"
                if isinstance(error, RateLimited)
                else ("retry" if error.retryable else "failed")
            )
            self._record(
                connection, context, request, response.status_code, latency_ms, attempt, outcome
            )
            if isinstance(error, RateLimited) and context is not None:
                context.rate_limited += 1
            self._retry_or_raise(error, attempt, retry, context)

    def _retry_or_raise(
        self, error: ConnectorError, attempt: int, retry: bool, context: CallContext | None
    ) -> None:
        """Sleep before the next attempt, or raise ``error`` when it may not be retried."""
        if not (retry and error.retryable and attempt < self.retry.max_attempts):
            raise error
        wait = self._backoff(attempt)
        if isinstance(error, RateLimited) and error.retry_after is not None:
            if error.retry_after > self.retry.max_retry_after:
                raise error
            wait = error.retry_after
        if context is not None:
            context.retries += 1
        self._sleep(wait)


_NOT_JSON = object()


def _parse_body(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return json.loads(response.content)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _NOT_JSON
