"""A generic REST API of our own, mounted at ``/custom``.

It backs the "Custom REST API" connector template and exercises each
pagination style a connector may meet, one resource per style:

* ``/api/v1/leads``: page number (``page``/``per_page``, body ``total_pages``);
* ``/api/v1/events``: offset/limit (body ``total``);
* ``/api/v1/orders``: RFC 8288 ``Link: <...>; rel="next"`` header, JSON array body;
* ``/api/v1/activities``: absolute next URL in the body (``next``).

Every record has ``id`` and ``updated_at`` (ISO 8601 UTC); every list is
ordered by ``updated_at`` and accepts ``updated_since``.  Cursor styles use
keyset cursors, so records modified mid-walk are neither lost nor repeated.
Auth: ``X-API-Key: sandbox-custom-key``.
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from sandbox import accounts
from sandbox.dataset import Collection, Record, TimeView, iso_ms, parse_timestamp
from sandbox.web import BadRequestBody, Request, Response, Router, VendorApp, json_response

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
LEAD_FIELDS = {"email", "first_name", "last_name", "company", "status", "score"}
LEAD_STATUSES = {"new", "contacted", "qualified", "lost"}

router = Router()


class ApiError(Exception):
    """Rendered as ``{"error": code, "message": ...}``."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra


def error(status: int, code: str, message: str, **extra: Any) -> Response:
    """The API's error document."""
    return json_response({"error": code, "message": message, **extra}, status)


def api(handler: Callable[[Request], Response]) -> Callable[[Request], Response]:
    """Require ``X-API-Key`` and render :class:`ApiError`."""

    def wrapped(request: Request) -> Response:
        if request.header("x-api-key") != accounts.CUSTOM_API_KEY:
            return error(401, "unauthorized", "Missing or invalid API key")
        try:
            return handler(request)
        except ApiError as exc:
            return error(exc.status, exc.code, exc.message, **exc.extra)
        except BadRequestBody as exc:
            return error(400, "invalid_json", f"Request body is not valid JSON: {exc}")

    wrapped.__doc__ = handler.__doc__
    return wrapped


def _int(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.arg(name)
    try:
        value = default if raw in (None, "") else int(raw)
    except ValueError:
        raise ApiError(400, "invalid_parameter", f"{name} must be an integer") from None
    if not low <= value <= high:
        raise ApiError(400, "invalid_parameter", f"{name} must be between {low} and {high}")
    return value


def _since(request: Request) -> int | None:
    raw = request.arg("updated_since")
    if not raw:
        return None
    try:
        return parse_timestamp(raw)
    except ValueError:
        raise ApiError(400, "invalid_parameter", "updated_since must be ISO 8601") from None


def _collection(request: Request, name: str) -> Collection:
    return request.state.dataset.collection("custom", name)


def _encode(ts: int) -> str:
    return base64.urlsafe_b64encode(f"ts:{ts}".encode()).decode().rstrip("=")


def _decode(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        return int(text.removeprefix("ts:"))
    except ValueError:
        raise ApiError(400, "invalid_cursor", "cursor is invalid or expired") from None


def _keyset_page(request: Request, name: str, size: int) -> tuple[list[Record], str | None]:
    """One page after the ``cursor``; returns ``(records, next_cursor)``."""
    col = _collection(request, name)
    since = _since(request)
    cursor = request.arg("cursor")
    if cursor:
        after = _decode(cursor) + 1
        since = after if since is None else max(since, after)
    view: TimeView = col.window(since)
    keys = view.page(0, size)
    records = [r for r in map(col.get, keys) if r]
    next_cursor = _encode(col.ts(keys[-1])) if keys and view.total > size else None
    return records, next_cursor


def _url(request: Request, **params: Any) -> str:
    query = {k: v[0] for k, v in request.query.items()} | {k: str(v) for k, v in params.items()}
    return f"{request.base_url}{request.full_path}?{urlencode(query)}"


@router.route("GET", "/api/v1/me")
@api
def me(request: Request) -> Response:
    """The account behind the API key (connection check)."""
    return json_response({"id": "acct_sandbox", "name": "Sandbox Co", "plan": "pro",
                          "email": "api@example.com"})  # fmt: skip


@router.route("GET", "/api/v1/leads")
@api
def list_leads(request: Request) -> Response:
    """Page-number pagination: ``page`` (1-based) and ``per_page`` (max 100)."""
    page = _int(request, "page", 1, 1, 10**9)
    per_page = _int(request, "per_page", 25, 1, 100)
    col = _collection(request, "leads")
    view = col.window(_since(request))
    keys = view.page((page - 1) * per_page, per_page)
    return json_response({"data": [r for r in map(col.get, keys) if r], "page": page,
                          "per_page": per_page, "total": view.total,
                          "total_pages": math.ceil(view.total / per_page)})  # fmt: skip


@router.route("GET", "/api/v1/events")
@api
def list_events(request: Request) -> Response:
    """Offset/limit pagination (``limit`` max 500)."""
    offset = _int(request, "offset", 0, 0, 10**9)
    limit = _int(request, "limit", 50, 1, 500)
    col = _collection(request, "events")
    view = col.window(_since(request))
    items = [r for r in map(col.get, view.page(offset, limit)) if r]
    return json_response({"items": items, "total": view.total, "offset": offset, "limit": limit})


@router.route("GET", "/api/v1/orders")
@api
def list_orders(request: Request) -> Response:
    """``Link`` header pagination; the body is a bare JSON array."""
    per_page = _int(request, "per_page", 50, 1, 200)
    records, next_cursor = _keyset_page(request, "orders", per_page)
    response = json_response(records)
    if next_cursor:
        response.header(
            "Link", f'<{_url(request, cursor=next_cursor, per_page=per_page)}>; rel="next"'
        )
    return response


@router.route("GET", "/api/v1/activities")
@api
def list_activities(request: Request) -> Response:
    """Next-URL-in-body pagination: ``{"records": [...], "next": url | null}``."""
    limit = _int(request, "limit", 100, 1, 500)
    records, next_cursor = _keyset_page(request, "activities", limit)
    next_url = _url(request, cursor=next_cursor, limit=limit) if next_cursor else None
    return json_response({"records": records, "next": next_url})


def _lead_key(request: Request) -> int:
    raw = request.params["lead_id"]
    col = _collection(request, "leads")
    if not raw.isdigit() or col.get(int(raw) - 1) is None:
        raise ApiError(404, "not_found", f"Lead {raw} not found")
    return int(raw) - 1


def _validate_lead(body: Any, creating: bool) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError(422, "validation_failed", "Body must be a JSON object")
    problems = {k: "unknown field" for k in body if k not in LEAD_FIELDS}
    if creating and not body.get("email"):
        problems["email"] = "is required"
    if "email" in body and body["email"] and not EMAIL_RE.match(str(body["email"])):
        problems["email"] = "is not a valid e-mail address"
    if "status" in body and body["status"] not in LEAD_STATUSES:
        problems["status"] = f"must be one of {sorted(LEAD_STATUSES)}"
    if problems:
        raise ApiError(422, "validation_failed", "The lead is invalid", fields=problems)
    return body


@router.route("GET", "/api/v1/leads/{lead_id}")
@api
def get_lead(request: Request) -> Response:
    """One lead."""
    return json_response(_collection(request, "leads").get(_lead_key(request)))


@router.route("POST", "/api/v1/leads")
@api
def create_lead(request: Request) -> Response:
    """Create a lead (201)."""
    values = _validate_lead(request.json(), creating=True)

    def build(key: int, ts: int) -> Record:
        base = {"id": key + 1, "email": None, "first_name": None, "last_name": None,
                "company": None, "status": "new", "score": 0}  # fmt: skip
        return base | values | {"created_at": iso_ms(ts), "updated_at": iso_ms(ts)}

    _, record = _collection(request, "leads").create(build)
    return json_response(record, 201)


@router.route("PUT", "/api/v1/leads/{lead_id}")
@api
def update_lead(request: Request) -> Response:
    """Update a lead's fields."""
    values = _validate_lead(request.json(), creating=False)
    record = _collection(request, "leads").update(
        _lead_key(request), lambda r, ts: r | values | {"updated_at": iso_ms(ts)}
    )
    return json_response(record)


def _not_found(request: Request) -> Response:
    return error(404, "not_found", f"No route for {request.method} {request.path}")


def _rate_limited(request: Request, retry_after: str) -> Response:
    return error(429, "rate_limited", "Too many requests").header("Retry-After", retry_after)


def _server_error(request: Request, status: int) -> Response:
    return error(status, "internal_error", "Something went wrong")


APP = VendorApp(
    key="custom",
    prefix="/custom",
    router=router,
    not_found=_not_found,
    rate_limited=_rate_limited,
    server_error=_server_error,
    credential=lambda request: request.header("x-api-key") or "",
)
