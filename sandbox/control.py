"""The ``/_control`` API tests use to steer the sandbox.

Control calls are never subject to faults or rate limits and never appear in
the request log.  Bodies are JSON; errors are ``{"error": "..."}`` with 400.
"""

from __future__ import annotations

from typing import Any

from sandbox.state import FAULT_KINDS, TOKEN_FAMILIES, VENDORS, normalize_vendor
from sandbox.web import BadRequestBody, Request, Response, Router, VendorApp, json_response

router = Router()


class ControlError(ValueError):
    """A malformed control request."""


def _body(request: Request) -> dict[str, Any]:
    try:
        body = request.json()
    except BadRequestBody as exc:
        raise ControlError(f"body is not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise ControlError("body must be a JSON object")
    return body


def _vendor(body: dict[str, Any], allowed: tuple[str, ...] = VENDORS) -> str:
    vendor = normalize_vendor(str(body.get("vendor", "")))
    if vendor not in allowed:
        raise ControlError(f"unknown vendor {body.get('vendor')!r}; expected one of {allowed}")
    return vendor


def _guard(handler: Any) -> Any:
    def wrapped(request: Request) -> Response:
        try:
            return handler(request)
        except (ControlError, ValueError, TypeError) as exc:
            return json_response({"error": str(exc)}, 400)

    wrapped.__doc__ = handler.__doc__
    return wrapped


@router.route("POST", "/reset")
@_guard
def reset(request: Request) -> Response:
    """Dataset, faults, rate limits, token TTLs, issued tokens and log back to defaults."""
    request.state.reset()
    return json_response({"status": "reset"})


@router.route("GET", "/dataset")
def dataset_sizes(request: Request) -> Response:
    """Current size of every collection."""
    return json_response({"counts": request.state.dataset.counts()})


@router.route("POST", "/dataset")
@_guard
def set_dataset(request: Request) -> Response:
    """Resize one collection: ``{"vendor", "object", "count"}``."""
    body = _body(request)
    vendor, name = _vendor(body), str(body.get("object", ""))
    dataset = request.state.dataset
    if not dataset.has(vendor, name):
        raise ControlError(f"unknown object {vendor}/{name}; known: {dataset.spec_names()}")
    count = int(body.get("count", -1))
    dataset.set_count(vendor, name, count)
    return json_response({"vendor": vendor, "object": name, "count": count})


@router.route("GET", "/faults")
def list_faults(request: Request) -> Response:
    """Queued faults per vendor."""
    with request.state.lock:
        faults = {v: [f.describe() for f in q] for v, q in request.state.faults.items() if q}
    return json_response({"faults": faults})


@router.route("POST", "/faults")
@_guard
def add_fault(request: Request) -> Response:
    """Queue a fault: ``{"vendor", "kind", "count", ...options}``."""
    body = _body(request)
    vendor = _vendor(body)
    kind = str(body.get("kind", ""))
    if kind not in FAULT_KINDS:
        raise ControlError(f"unknown fault kind {kind!r}; expected one of {FAULT_KINDS}")
    options = {k: v for k, v in body.items() if k not in ("vendor", "kind", "count")}
    fault = request.state.add_fault(vendor, kind, int(body.get("count", 1)), options)
    return json_response({"vendor": vendor, "fault": fault.describe()})


@router.route("POST", "/faults/clear")
@_guard
def clear_faults(request: Request) -> Response:
    """Drop every queued fault."""
    with request.state.lock:
        request.state.faults.clear()
    return json_response({"status": "cleared"})


@router.route("POST", "/rate_limit")
@_guard
def set_rate_limit(request: Request) -> Response:
    """Token bucket per credential: ``{"vendor", "per_second", "burst"}`` (0/null disables)."""
    body = _body(request)
    vendor = _vendor(body)
    per_second = body.get("per_second")
    burst = body.get("burst")
    if per_second is not None and float(per_second) < 0:
        raise ControlError("per_second must be positive")
    request.state.set_rate_limit(vendor, per_second and float(per_second), burst and float(burst))
    return json_response({"vendor": vendor, "per_second": per_second, "burst": burst or per_second})


@router.route("GET", "/requests")
@_guard
def requests_log(request: Request) -> Response:
    """Recent vendor requests, oldest first (``?vendor=&limit=``)."""
    vendor = request.arg("vendor")
    limit = request.arg("limit")
    entries = request.state.logged(
        normalize_vendor(vendor) if vendor else None, int(limit) if limit else None
    )
    return json_response({"requests": entries})


@router.route("POST", "/requests/clear")
@_guard
def clear_requests(request: Request) -> Response:
    """Empty the request log."""
    with request.state.lock:
        request.state.requests.clear()
    return json_response({"status": "cleared"})


@router.route("POST", "/token_ttl")
@_guard
def set_token_ttl(request: Request) -> Response:
    """Lifetime of newly issued tokens: ``{"vendor": "google", "seconds": 5}``."""
    body = _body(request)
    family = TOKEN_FAMILIES.get(normalize_vendor(str(body.get("vendor", ""))))
    if family is None:
        raise ControlError(f"vendor must be one of {sorted(TOKEN_FAMILIES)}")
    seconds = int(body.get("seconds", 0))
    if seconds < 1:
        raise ControlError("seconds must be >= 1")
    with request.state.lock:
        request.state.token_ttl[family] = seconds
    return json_response({"family": family, "seconds": seconds})


@router.route("POST", "/expire_tokens")
@_guard
def expire_tokens_now(request: Request) -> Response:
    """Immediately revoke every issued token of a family: ``{"vendor": "google"}``."""
    body = _body(request)
    family = TOKEN_FAMILIES.get(normalize_vendor(str(body.get("vendor", ""))))
    if family is None:
        raise ControlError(f"vendor must be one of {sorted(TOKEN_FAMILIES)}")
    return json_response({"family": family, "revoked": request.state.revoke_tokens(family)})


def _not_found(request: Request) -> Response:
    return json_response({"error": f"no control endpoint {request.method} {request.path}"}, 404)


def _unused(request: Request, *_: Any) -> Response:
    return _not_found(request)


APP = VendorApp(
    key="_control",
    prefix="/_control",
    router=router,
    not_found=_not_found,
    rate_limited=_unused,
    server_error=_unused,
)
