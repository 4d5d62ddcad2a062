"""Tiny request/response/router layer shared by every simulated vendor.

The sandbox deliberately uses the standard library HTTP server, so this module
supplies the little a vendor module needs: a parsed :class:`Request`, a
:class:`Response` value, a regex :class:`Router` and the :class:`VendorApp`
description the server mounts under a path prefix.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote

if TYPE_CHECKING:
    from sandbox.state import SandboxState


class BadRequestBody(ValueError):
    """Raised when a request body is not the JSON/form document expected."""


@dataclass
class Request:
    """One incoming HTTP request, already split into its useful parts.

    ``path`` is relative to the vendor prefix (``/crm/v3/objects/contacts``),
    ``full_path`` is what the client actually asked for.
    """

    method: str
    path: str
    full_path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    state: SandboxState
    base_url: str
    prefix: str = ""
    params: dict[str, str] = field(default_factory=dict)

    def arg(self, name: str, default: str | None = None) -> str | None:
        """Return the first value of query parameter ``name``."""
        values = self.query.get(name)
        return values[0] if values else default

    def args(self, name: str) -> list[str]:
        """Return every value of a repeated query parameter."""
        return self.query.get(name, [])

    def header(self, name: str, default: str | None = None) -> str | None:
        """Case-insensitive header lookup."""
        return self.headers.get(name.lower(), default)

    def json(self) -> Any:
        """Parse the body as JSON (an empty body is ``{}``)."""
        if not self.body.strip():
            return {}
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise BadRequestBody(str(exc)) from exc

    def form(self) -> dict[str, str]:
        """Parse an ``application/x-www-form-urlencoded`` body."""
        try:
            text = self.body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadRequestBody(str(exc)) from exc
        return {k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()}

    @property
    def vendor_base(self) -> str:
        """Absolute URL of the vendor root, e.g. ``http://127.0.0.1:8765/hubspot``."""
        return self.base_url + self.prefix

    def bearer(self) -> str | None:
        """Return the bearer token of the Authorization header, if any."""
        auth = self.header("authorization") or ""
        scheme, _, value = auth.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
        return None


@dataclass
class Response:
    """An HTTP response about to be written."""

    status: int = 200
    body: bytes = b""
    content_type: str | None = "application/json; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)

    def header(self, name: str, value: str) -> Response:
        """Add a header and return self (for chaining)."""
        self.headers.append((name, value))
        return self


def json_response(
    payload: Any,
    status: int = 200,
    headers: Iterable[tuple[str, str]] = (),
    content_type: str = "application/json; charset=utf-8",
) -> Response:
    """Serialise ``payload`` compactly as a JSON response."""
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    return Response(status, body, content_type, list(headers))


def empty_response(status: int = 204) -> Response:
    """A bodiless response (204 No Content and friends)."""
    return Response(status, b"", None)


def html_response(html: str, status: int = 200) -> Response:
    """An HTML page, used for the non-JSON fault."""
    return Response(status, html.encode(), "text/html; charset=utf-8")


def new_correlation_id() -> str:
    """A random UUID string, as vendors put in error bodies."""
    return str(uuid.uuid4())


Handler = Callable[[Request], Response]


class Router:
    """Maps ``(method, path regex)`` to handlers.

    Patterns use ``{name}`` placeholders matching one path segment (or
    ``{name:regex}`` for a custom regex); captured values are URL-decoded
    into ``request.params``.
    """

    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []

    def add(self, method: str, pattern: str, handler: Handler) -> None:
        """Register ``handler`` for ``method`` on ``pattern``."""
        regex = re.sub(
            r"\{(\w+)(?::([^}]+))?\}",
            lambda m: f"(?P<{m.group(1)}>{m.group(2) or '[^/]+'})",
            pattern,
        )
        self._routes.append((method.upper(), re.compile(f"^{regex}$"), handler))

    def route(self, method: str, pattern: str) -> Callable[[Handler], Handler]:
        """Decorator form of :meth:`add`."""

        def deco(fn: Handler) -> Handler:
            self.add(method, pattern, fn)
            return fn

        return deco

    def match(self, method: str, path: str) -> tuple[Handler | None, dict[str, str], bool]:
        """Find a handler; returns ``(handler, params, path_matched_other_method)``."""
        path = re.sub("%3[Aa]", ":", path)
        path_seen = False
        for route_method, regex, handler in self._routes:
            m = regex.match(path)
            if not m:
                continue
            if route_method != method.upper():
                path_seen = True
                continue
            return handler, {k: unquote(v) for k, v in m.groupdict().items()}, False
        return None, {}, path_seen


@dataclass
class VendorApp:
    """Everything the server needs to mount one simulated vendor.

    The callables render the vendor's *own* error documents so that faults
    and rate limits look exactly like the real service's.
    """

    key: str
    prefix: str
    router: Router
    not_found: Callable[[Request], Response]
    rate_limited: Callable[[Request, str], Response]
    server_error: Callable[[Request, int], Response]
    token_family: str | None = None
    unmetered_paths: tuple[str, ...] = ()
    """Paths (vendor-relative) exempt from the per-credential rate limiter."""
    credential: Callable[[Request], str] | None = None
    """Extracts the credential the rate limiter buckets by (default: Authorization)."""

    def dispatch(self, request: Request) -> Response:
        """Route ``request`` to its handler or to the vendor's 404."""
        handler, params, other_method = self.router.match(request.method, request.path)
        if handler is None:
            response = self.not_found(request)
            if other_method:
                response.status = 405
            return response
        request.params = params
        return handler(request)
