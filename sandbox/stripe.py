"""Stripe API (real host ``api.stripe.com``), mounted at ``/stripe``.

List endpoints for customers, charges and invoices, newest first with
``limit`` (1-100), ``starting_after``/``ending_before`` cursors and
``created[gt|gte|lt|lte]`` filters; retrieve by id; ``/v1/balance`` as a
connection check.  Secret key as Bearer or as Basic username.  Errors use
Stripe's ``{"error": {...}}`` document and every response has a
``Request-Id`` header.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable
from typing import Any

from sandbox import accounts
from sandbox.dataset import Collection
from sandbox.records import stripe_key
from sandbox.web import Request, Response, Router, VendorApp, json_response

OBJECTS = {"customers": ("cus", "customer"), "charges": ("ch", "charge"),
           "invoices": ("in", "invoice")}  # fmt: skip
CREATED_OPS = ("gt", "gte", "lt", "lte")

router = Router()


class StripeError(Exception):
    """Rendered as Stripe's error document."""

    def __init__(self, status: int, message: str, **fields: Any) -> None:
        super().__init__(message)
        self.status, self.message, self.fields = status, message, fields


def error(
    status: int, message: str, type_: str = "invalid_request_error", **fields: Any
) -> Response:
    """``{"error": {"message", "type", ...}}`` with a ``Request-Id`` header."""
    body = {"error": {"message": message, "type": type_, **fields}}
    return json_response(body, status, [("Request-Id", _request_id())])


def _request_id() -> str:
    return "req_" + secrets.token_hex(7)


def mask_key(key: str) -> str:
    """Mask a key the way Stripe echoes it: ``sk_test_****abcd``."""
    parts = key.split("_")
    head = "_".join(parts[:2]) + "_" if len(parts) > 2 else ""
    return f"{head}****{key[-4:]}"


def _key(request: Request) -> str | None:
    auth = request.header("authorization") or ""
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer":
        return value.strip()
    if scheme.lower() == "basic":
        try:
            return base64.b64decode(value).decode().partition(":")[0]
        except (ValueError, UnicodeDecodeError):
            return ""
    return None


def api(
    permission: str,
) -> Callable[[Callable[[Request], Response]], Callable[[Request], Response]]:
    """Require the secret key; restricted keys lack ``permission`` (``rak_*_read``)."""

    def deco(handler: Callable[[Request], Response]) -> Callable[[Request], Response]:
        def wrapped(request: Request) -> Response:
            key = _key(request)
            if not key:
                return error(401, "You did not provide an API key. You need to provide your API "
                             "key in the Authorization header, using Bearer auth (e.g. "
                             "'Authorization: Bearer YOUR_SECRET_KEY'). See "
                             "https://stripe.com/docs/api#authentication for details, or we can "
                             "help at https://support.stripe.com/.")  # fmt: skip
            if key == accounts.STRIPE_RESTRICTED_NOREAD_KEY:
                perm = permission.format(
                    obj=OBJECTS.get(request.params.get("object", ""), ("", ""))[1]
                )
                return error(403, f"The provided key '{mask_key(key)}' does not have the "
                             f"required permissions for this endpoint on account "
                             f"'{accounts.STRIPE_ACCOUNT_ID}'. Having the '{perm}' permission "
                             "would allow this request to continue.")  # fmt: skip
            if key != accounts.STRIPE_SECRET_KEY:
                return error(401, f"Invalid API Key provided: {mask_key(key)}")
            try:
                response = handler(request)
            except StripeError as exc:
                return error(exc.status, exc.message, **exc.fields)
            return response.header("Request-Id", _request_id())

        wrapped.__doc__ = handler.__doc__
        return wrapped

    return deco


def _collection(request: Request) -> tuple[Collection, str, str]:
    name = request.params["object"]
    prefix, _ = OBJECTS[name]
    return request.state.dataset.collection("stripe", name), prefix, name


def _int_param(request: Request, name: str) -> int | None:
    value = request.arg(name)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise StripeError(400, f"Invalid integer: {value}", param=name) from None


def _created_bounds(request: Request) -> tuple[int | None, int | None]:
    """``created`` filters as a half-open ``[since_ms, until_ms)`` window."""
    since = until = None
    exact = _int_param(request, "created")
    if exact is not None:
        since, until = exact * 1000, (exact + 1) * 1000
    for op in CREATED_OPS:
        value = _int_param(request, f"created[{op}]")
        if value is None:
            continue
        low = {"gt": (value + 1) * 1000, "gte": value * 1000}.get(op)
        high = {"lt": value * 1000, "lte": (value + 1) * 1000}.get(op)
        since = low if low is not None and (since is None or low > since) else since
        until = high if high is not None and (until is None or high < until) else until
    return since, until


def _cursor(request: Request, name: str, prefix: str, col: Collection) -> int | None:
    value = request.arg(name)
    if not value:
        return None
    key = stripe_key(value, prefix)
    if key is None or col.get(key) is None:
        raise StripeError(400, f"No such {OBJECTS[request.params['object']][1]}: '{value}'",
                          code="resource_missing", param=name,
                          doc_url="https://stripe.com/docs/error-codes/resource_missing")  # fmt: skip
    return key


@router.route("GET", "/v1/{object:customers|charges|invoices}")
@api("rak_{obj}_read")
def list_objects(request: Request) -> Response:
    """Newest-first list with cursor pagination and ``created`` filters."""
    col, prefix, name = _collection(request)
    limit = _int_param(request, "limit")
    limit = 10 if limit is None else limit
    if not 1 <= limit <= 100:
        raise StripeError(400, "This value must be greater than or equal to 1 and less than or "
                          "equal to 100.", param="limit", code="parameter_invalid_integer")  # fmt: skip
    since, until = _created_bounds(request)
    lo, hi = col.key_bounds(since, until)
    starting_after = _cursor(request, "starting_after", prefix, col)
    ending_before = _cursor(request, "ending_before", prefix, col)
    wanted = {"customer": request.arg("customer"), "email": request.arg("email"),
              "status": request.arg("status")}  # fmt: skip
    filters = {k: v for k, v in wanted.items() if v}
    if ending_before is not None:
        keys, has_more = col.scan(ending_before + 1, limit, lo=lo, hi=hi)
        keys.reverse()
    else:
        start = hi - 1 if starting_after is None else min(starting_after - 1, hi - 1)
        keys, has_more = col.scan(start, limit, descending=True, lo=lo, hi=hi)
    if filters:  # equality filters: scan further until the page is full
        keys, has_more = _filtered(col, keys, has_more, limit, filters, lo, hi, ending_before)
    data = [r for r in map(col.get, keys) if r]
    return json_response({"object": "list", "data": data, "has_more": has_more,
                          "url": f"/v1/{name}"})  # fmt: skip


def _filtered(col: Collection, keys: list[int], has_more: bool, limit: int,
              filters: dict[str, str], lo: int, hi: int, ending_before: int | None,
              ) -> tuple[list[int], bool]:  # fmt: skip
    result: list[int] = []
    descending = ending_before is None
    cursor = keys[0] if keys else None
    while cursor is not None:
        batch, more = col.scan(cursor, 500, descending=descending, lo=lo, hi=hi)
        for key in batch:
            record = col.get(key) or {}
            if all(str(record.get(f)) == v for f, v in filters.items()):
                if len(result) == limit:
                    return (result if descending else result[::-1]), True
                result.append(key)
        cursor = (batch[-1] - 1 if descending else batch[-1] + 1) if more and batch else None
    return (result if descending else result[::-1]), False


@router.route("GET", "/v1/{object:customers|charges|invoices}/{object_id}")
@api("rak_{obj}_read")
def retrieve(request: Request) -> Response:
    """One object by id."""
    col, prefix, name = _collection(request)
    key = stripe_key(request.params["object_id"], prefix)
    record = col.get(key) if key is not None else None
    if record is None:
        raise StripeError(404, f"No such {OBJECTS[name][1]}: '{request.params['object_id']}'",
                          code="resource_missing", param="id",
                          doc_url="https://stripe.com/docs/error-codes/resource_missing")  # fmt: skip
    return json_response(record)


@router.route("GET", "/v1/balance")
@api("rak_balance_read")
def balance(request: Request) -> Response:
    """Account balance; a cheap connection check."""
    return json_response({"object": "balance", "livemode": False,
                          "available": [{"amount": 1_234_567, "currency": "usd",
                                         "source_types": {"card": 1_234_567}}],
                          "pending": [{"amount": 45_600, "currency": "usd",
                                       "source_types": {"card": 45_600}}]})  # fmt: skip


def _not_found(request: Request) -> Response:
    return error(404, f"Unrecognized request URL (GET: {request.path}). Please see "
                 "https://stripe.com/docs or we can help at https://support.stripe.com/.")  # fmt: skip


def _rate_limited(request: Request, retry_after: str) -> Response:
    return error(429, "Request rate limit exceeded. Learn more about rate limits here "
                 "https://stripe.com/docs/rate-limits.", "rate_limit_error",
                 code="rate_limit").header("Retry-After", retry_after)  # fmt: skip


def _server_error(request: Request, status: int) -> Response:
    return error(status, "An unknown error occurred", "api_error")


APP = VendorApp(
    key="stripe",
    prefix="/stripe",
    router=router,
    not_found=_not_found,
    rate_limited=_rate_limited,
    server_error=_server_error,
)
