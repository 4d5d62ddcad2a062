"""HubSpot CRM v3 (real host ``api.hubapi.com``), mounted at ``/hubspot``.

Objects ``contacts``, ``companies`` and ``deals``: list with ``after``
cursors, read by id, search (the incremental-read endpoint, with HubSpot's
10,000-result ceiling), single and batch writes, archive and GDPR delete.
Auth is a private-app token or an access token from ``/oauth/v1/token``.
Errors use HubSpot's ``{"status": "error", "message", "correlationId",
"category", ...}`` document.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from sandbox import accounts
from sandbox.dataset import Collection, Record, iso_ms, parse_timestamp
from sandbox.records import HUBSPOT_ID_OFFSET, email_key
from sandbox.web import (
    BadRequestBody,
    Request,
    Response,
    Router,
    VendorApp,
    empty_response,
    json_response,
    new_correlation_id,
)

OBJECTS = ("contacts", "companies", "deals")
DEFAULT_PROPERTIES = {
    "contacts": ["createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"],
    "companies": ["createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"],
    "deals": ["amount", "closedate", "createdate", "dealname", "dealstage",
              "hs_lastmodifieddate", "hs_object_id", "pipeline"],
}  # fmt: skip
SCHEMA = {
    "contacts": {"email", "firstname", "lastname", "phone", "company", "jobtitle", "city",
                 "country", "lifecyclestage", "hs_lead_status", "createdate",
                 "lastmodifieddate", "hs_object_id"},
    "companies": {"name", "domain", "industry", "city", "country", "numberofemployees",
                  "annualrevenue", "createdate", "hs_lastmodifieddate", "hs_object_id"},
    "deals": {"dealname", "amount", "dealstage", "pipeline", "closedate", "createdate",
              "hs_lastmodifieddate", "hs_object_id"},
}  # fmt: skip
MODIFIED_PROPERTY = {"contacts": "lastmodifieddate", "companies": "hs_lastmodifieddate",
                     "deals": "hs_lastmodifieddate"}  # fmt: skip
READ_ONLY = {"createdate", "lastmodifieddate", "hs_lastmodifieddate", "hs_object_id"}
TIME_PROPERTIES = {"lastmodifieddate", "hs_lastmodifieddate"}
REQUIRED_SCOPE = {o: f"crm.objects.{o}.read" for o in OBJECTS}
MAX_LIST_LIMIT, MAX_SEARCH_LIMIT, MAX_BATCH, SEARCH_CEILING = 100, 200, 100, 10_000
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
OBJ = r"{object:contacts|companies|deals}"

router = Router()


class HubSpotError(Exception):
    """Raised inside handlers; rendered as HubSpot's error document."""

    def __init__(self, status: int, category: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.category, self.message, self.extra = status, category, message, extra

    def response(self) -> Response:
        """The HubSpot error body for this error."""
        return error(self.status, self.category, self.message, **self.extra)


def error(status: int, category: str, message: str, **extra: Any) -> Response:
    """HubSpot's error document."""
    body = {"status": "error", "message": message, "correlationId": new_correlation_id(),
            "category": category, **extra}  # fmt: skip
    return json_response(body, status)


def _rate_headers(remaining: int) -> list[tuple[str, str]]:
    return [("X-HubSpot-RateLimit-Interval-Milliseconds", "10000"),
            ("X-HubSpot-RateLimit-Max", "190"),
            ("X-HubSpot-RateLimit-Remaining", str(remaining)),
            ("X-HubSpot-RateLimit-Daily", "1000000"),
            ("X-HubSpot-RateLimit-Daily-Remaining", "999000")]  # fmt: skip


def authenticate(request: Request, obj: str | None) -> Response | None:
    """Check the bearer token; ``obj`` is the CRM object whose read scope is needed."""
    token = request.bearer()
    if token == accounts.HUBSPOT_PRIVATE_APP_TOKEN:
        return None
    if token == accounts.HUBSPOT_NOSCOPE_TOKEN:
        if obj != "contacts":
            return None
        return error(
            403,
            "MISSING_SCOPES",
            "This app hasn't been granted all required scopes to make this call. Read more "
            "about required scopes here: https://developers.hubspot.com/scopes.",
            errors=[{"message": "One or more of the following scopes are required.",
                     "context": {"requiredGranularScopes": [REQUIRED_SCOPE[obj]]}}],
            links={"scopes": "https://developers.hubspot.com/scopes"},
        )  # fmt: skip
    issued = request.state.lookup_token(token, "hubspot")
    if issued is not None and issued.status() == "valid":
        return None
    if issued is not None:
        ago = max(0, int((time.time() - issued.expires_at) // 60))
        return error(401, "EXPIRED_AUTHENTICATION",
                     f"The OAuth token used to make this call expired {ago} minute(s) ago.")  # fmt: skip
    return error(
        401,
        "INVALID_AUTHENTICATION",
        "Authentication credentials not found. This API supports OAuth 2.0 authentication and "
        "you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview",
    )


def crm(handler: Callable[[Request, Collection, str], Response]) -> Callable[[Request], Response]:
    """Wrap a CRM handler with auth, collection lookup and error rendering."""

    def wrapped(request: Request) -> Response:
        obj = request.params["object"]
        denied = authenticate(request, obj)
        if denied is not None:
            return denied
        try:
            return handler(request, request.state.dataset.collection("hubspot", obj), obj)
        except HubSpotError as exc:
            return exc.response()
        except BadRequestBody as exc:
            return error(400, "VALIDATION_ERROR", f"Invalid input JSON: {exc}")

    wrapped.__doc__ = handler.__doc__
    return wrapped


# --- shaping -------------------------------------------------------------------
def object_key(object_id: str) -> int | None:
    """Collection key of HubSpot object id ``object_id``."""
    return int(object_id) - HUBSPOT_ID_OFFSET if object_id.isdigit() else None


def shape(record: Record, properties: list[str] | None, obj: str) -> Record:
    """The API view of a stored record with the requested properties."""
    wanted = properties or DEFAULT_PROPERTIES[obj]
    props = record["properties"]
    selected = {p: props.get(p) for p in wanted if p in SCHEMA[obj] or p in props}
    return {"id": record["id"], "properties": selected, "createdAt": record["createdAt"],
            "updatedAt": record["updatedAt"], "archived": False}  # fmt: skip


def _requested_properties(request: Request) -> list[str] | None:
    values = [p.strip() for v in request.args("properties") for p in v.split(",") if p.strip()]
    return values or None


def _int(value: Any, name: str, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise HubSpotError(400, "VALIDATION_ERROR", f"Invalid value for {name}: {value}") from None


# --- reads ---------------------------------------------------------------------
@router.route("GET", f"/crm/v3/objects/{OBJ}")
@crm
def list_objects(request: Request, col: Collection, obj: str) -> Response:
    """Page through objects in id order; ``paging.next.after`` is absent on the last page."""
    limit = min(max(_int(request.arg("limit"), "limit", 10), 1), MAX_LIST_LIMIT)
    after = request.arg("after")
    start = 0 if not after else object_key(after)
    if start is None:
        raise HubSpotError(400, "VALIDATION_ERROR", f"Invalid after value: {after}")
    if request.arg("archived") == "true":
        return json_response({"results": []})
    keys, more = col.scan(max(start, 0), limit)
    props = _requested_properties(request)
    body: dict[str, Any] = {"results": [shape(r, props, obj) for r in map(col.get, keys) if r]}
    if more:
        next_after = str(keys[-1] + 1 + HUBSPOT_ID_OFFSET)
        query = {k: v[0] for k, v in request.query.items() if k != "after"} | {"after": next_after}
        link = f"{request.vendor_base}/crm/v3/objects/{obj}?{urlencode(query)}"
        body["paging"] = {"next": {"after": next_after, "link": link}}
    return json_response(body)


def _find(col: Collection, id_property: str | None, value: str) -> int | None:
    if id_property in (None, "", "hs_object_id"):
        key = object_key(value)
        return key if key is not None and col.get(key) is not None else None
    if id_property == "email":
        return col.find(lambda r: r["properties"].get("email"), value.lower(), email_key(value))
    raise HubSpotError(400, "VALIDATION_ERROR", f"Unsupported idProperty {id_property}")


@router.route("GET", f"/crm/v3/objects/{OBJ}/{{object_id:\\d+|[^/]+@[^/]+}}")
@crm
def get_object(request: Request, col: Collection, obj: str) -> Response:
    """Read one object by id (or by ``idProperty=email``)."""
    key = _find(col, request.arg("idProperty"), request.params["object_id"])
    record = col.get(key) if key is not None else None
    if record is None:
        return empty_response(404)
    return json_response(shape(record, _requested_properties(request), obj))


def _search_window(obj: str, groups: list[dict[str, Any]]) -> tuple[int | None, int | None]:
    since: int | None = None
    until: int | None = None
    for group in groups:
        for flt in group.get("filters", []):
            name, op = flt.get("propertyName"), flt.get("operator")
            if name not in TIME_PROPERTIES:
                raise HubSpotError(400, "VALIDATION_ERROR", f"The sandbox supports search "
                                   f"filters on {sorted(TIME_PROPERTIES)} and email only")  # fmt: skip
            try:
                value = parse_timestamp(str(flt.get("value")))
                high = parse_timestamp(str(flt.get("highValue", flt.get("value"))))
            except ValueError:
                raise HubSpotError(400, "VALIDATION_ERROR",
                                   f"{flt.get('value')} is not a valid datetime value") from None  # fmt: skip
            bounds = {"GT": (value + 1, None), "GTE": (value, None), "LT": (None, value),
                      "LTE": (None, value + 1), "EQ": (value, value + 1),
                      "BETWEEN": (value, high + 1)}.get(op)  # fmt: skip
            if bounds is None:
                raise HubSpotError(400, "VALIDATION_ERROR", f"Unsupported operator {op}")
            if bounds[0] is not None:
                since = bounds[0] if since is None else max(since, bounds[0])
            if bounds[1] is not None:
                until = bounds[1] if until is None else min(until, bounds[1])
    return since, until


@router.route("POST", f"/crm/v3/objects/{OBJ}/search")
@crm
def search(request: Request, col: Collection, obj: str) -> Response:
    """CRM search: time-window filters, sorts by modification time, offset ``after``."""
    body = request.json()
    limit = min(max(_int(body.get("limit"), "limit", 10), 1), MAX_SEARCH_LIMIT)
    offset = _int(body.get("after"), "after", 0)
    if offset + limit > SEARCH_CEILING:
        raise HubSpotError(400, "VALIDATION_ERROR", "Search results are limited to 10,000 "
                           "records; narrow the filter (for example by lastmodifieddate).")  # fmt: skip
    groups = body.get("filterGroups") or []
    props = body.get("properties") or None
    email_values = [f.get("value") for g in groups for f in g.get("filters", [])
                    if f.get("propertyName") == "email" and f.get("operator") == "EQ"]  # fmt: skip
    if email_values:
        keys = [k for v in email_values if (k := _find(col, "email", str(v))) is not None]
        results = [shape(r, props, obj) for r in map(col.get, keys) if r]
        return json_response({"total": len(results), "results": results})
    if len(groups) > 1:
        raise HubSpotError(400, "VALIDATION_ERROR", "The sandbox supports one filterGroup")
    since, until = _search_window(obj, groups)
    sorts = body.get("sorts") or []
    descending = any(
        (s.get("direction") if isinstance(s, dict) else "") == "DESCENDING"
        or (isinstance(s, str) and s.startswith("-"))
        for s in sorts
    )
    view = col.window(since, until)
    keys = view.page(offset, limit, descending)
    out: dict[str, Any] = {"total": view.total,
                           "results": [shape(r, props, obj) for r in map(col.get, keys) if r]}  # fmt: skip
    if offset + limit < view.total:
        out["paging"] = {"next": {"after": str(offset + limit)}}
    return json_response(out)


# --- writes --------------------------------------------------------------------
def _validate(obj: str, props: Any) -> dict[str, str | None]:
    if not isinstance(props, dict):
        raise HubSpotError(400, "VALIDATION_ERROR", "properties must be an object")
    problems = []
    for name, value in props.items():
        if name not in SCHEMA[obj]:
            problems.append((name, "PROPERTY_DOESNT_EXIST", f'Property "{name}" does not exist'))
        elif name in READ_ONLY:
            problems.append((name, "READ_ONLY_VALUE", f'"{name}" is a read only property'))
        elif name == "email" and value and not EMAIL_RE.match(str(value)):
            problems.append((name, "INVALID_EMAIL", f"Email address {value} is invalid"))
    if problems:
        details = json.dumps(
            [{"isValid": False, "message": msg, "error": code, "name": name}
             for name, code, msg in problems],
            separators=(",", ":"),
        )  # fmt: skip
        raise HubSpotError(400, "VALIDATION_ERROR", f"Property values were not valid: {details}")
    return {k: (None if v is None else str(v).lower() if k == "email" else str(v))
            for k, v in props.items()}  # fmt: skip


def _apply(obj: str, props: dict[str, str | None]) -> Callable[[Record, int], Record]:
    def change(record: Record, ts: int) -> Record:
        record["properties"] = {**record["properties"], **props,
                                MODIFIED_PROPERTY[obj]: iso_ms(ts)}  # fmt: skip
        record["updatedAt"] = iso_ms(ts)
        return record

    return change


def _create(col: Collection, obj: str, props: dict[str, str | None]) -> Record:
    if obj == "contacts" and props.get("email"):
        existing = _find(col, "email", str(props["email"]))
        if existing is not None:
            raise HubSpotError(409, "CONFLICT", "Contact already exists. Existing ID: "
                               f"{existing + HUBSPOT_ID_OFFSET}")  # fmt: skip

    def build(key: int, ts: int) -> Record:
        object_id = str(key + HUBSPOT_ID_OFFSET)
        stamp = iso_ms(ts)
        all_props = {**props, "createdate": stamp, MODIFIED_PROPERTY[obj]: stamp,
                     "hs_object_id": object_id}  # fmt: skip
        return {"id": object_id, "properties": all_props, "createdAt": stamp,
                "updatedAt": stamp, "archived": False}  # fmt: skip

    return col.create(build)[1]


def _written(record: Record, props: dict[str, Any], obj: str) -> Record:
    return shape(record, sorted(set(DEFAULT_PROPERTIES[obj]) | set(props)), obj)


def _inputs(body: Any) -> list[dict[str, Any]]:
    inputs = body.get("inputs") if isinstance(body, dict) else None
    if not isinstance(inputs, list) or not inputs:
        raise HubSpotError(400, "VALIDATION_ERROR", "inputs must be a non-empty array")
    if len(inputs) > MAX_BATCH:
        raise HubSpotError(400, "VALIDATION_ERROR",
                           f"Too many inputs: {len(inputs)} > {MAX_BATCH}")  # fmt: skip
    return inputs


def _batch(results: list[Record], errors: list[dict[str, Any]], status: int = 200) -> Response:
    now = iso_ms(int(time.time() * 1000))
    body: dict[str, Any] = {"status": "COMPLETE", "results": results, "startedAt": now,
                            "completedAt": now}  # fmt: skip
    if errors:
        body["numErrors"], body["errors"] = len(errors), errors
        status = 207
    return json_response(body, status)


@router.route("POST", f"/crm/v3/objects/{OBJ}")
@crm
def create_one(request: Request, col: Collection, obj: str) -> Response:
    """Create one object (201)."""
    props = _validate(obj, request.json().get("properties", {}))
    return json_response(_written(_create(col, obj, props), props, obj), 201)


@router.route("PATCH", f"/crm/v3/objects/{OBJ}/{{object_id}}")
@crm
def update_one(request: Request, col: Collection, obj: str) -> Response:
    """Update one object's properties."""
    props = _validate(obj, request.json().get("properties", {}))
    key = _find(col, request.arg("idProperty"), request.params["object_id"])
    record = col.update(key, _apply(obj, props)) if key is not None else None
    if record is None:
        return error(404, "OBJECT_NOT_FOUND", "resource not found")
    return json_response(_written(record, props, obj))


@router.route("POST", f"/crm/v3/objects/{OBJ}/batch/read")
@crm
def batch_read(request: Request, col: Collection, obj: str) -> Response:
    """Read up to 100 objects by id or ``idProperty``."""
    body = request.json()
    results, missing = [], []
    for item in _inputs(body):
        key = _find(col, body.get("idProperty"), str(item.get("id", "")))
        record = col.get(key) if key is not None else None
        if record is None:
            missing.append(str(item.get("id")))
        else:
            results.append(shape(record, body.get("properties") or None, obj))
    errors = [{"status": "error", "category": "OBJECT_NOT_FOUND", "message": "Could not get "
               "some objects, they may be deleted or not exist.", "context": {"ids": missing}}]  # fmt: skip
    return _batch(results, errors if missing else [])


@router.route("POST", f"/crm/v3/objects/{OBJ}/batch/create")
@crm
def batch_create(request: Request, col: Collection, obj: str) -> Response:
    """Create up to 100 objects (201)."""
    prepared = [_validate(obj, i.get("properties", {})) for i in _inputs(request.json())]
    return _batch([_written(_create(col, obj, p), p, obj) for p in prepared], [], 201)


@router.route("POST", f"/crm/v3/objects/{OBJ}/batch/update")
@crm
def batch_update(request: Request, col: Collection, obj: str) -> Response:
    """Update up to 100 objects by id (or ``idProperty``); 207 if some are missing."""
    results, missing = [], []
    for item in _inputs(request.json()):
        props = _validate(obj, item.get("properties", {}))
        key = _find(col, item.get("idProperty"), str(item.get("id", "")))
        record = col.update(key, _apply(obj, props)) if key is not None else None
        if record is None:
            missing.append(str(item.get("id")))
        else:
            results.append(_written(record, props, obj))
    errors = [{"status": "error", "category": "OBJECT_NOT_FOUND",
               "message": "Could not update some objects", "context": {"ids": missing}}]  # fmt: skip
    return _batch(results, errors if missing else [])


@router.route("POST", f"/crm/v3/objects/{OBJ}/batch/upsert")
@crm
def batch_upsert(request: Request, col: Collection, obj: str) -> Response:
    """Create or update up to 100 objects matched on ``idProperty`` (e.g. email)."""
    results = []
    for item in _inputs(request.json()):
        id_property, value = item.get("idProperty"), str(item.get("id", ""))
        props = _validate(obj, item.get("properties", {}))
        if id_property == "email":
            props["email"] = value.lower()
        key = _find(col, id_property, value)
        if key is not None:
            record, new = col.update(key, _apply(obj, props)), False
        elif id_property in (None, "", "hs_object_id"):
            raise HubSpotError(400, "VALIDATION_ERROR", f"Object {value} does not exist and "
                               "cannot be created by id; use a unique idProperty")  # fmt: skip
        else:
            record, new = _create(col, obj, props), True
        assert record is not None
        results.append(_written(record, props, obj) | {"new": new})
    return _batch(results, [])


@router.route("DELETE", f"/crm/v3/objects/{OBJ}/{{object_id}}")
@crm
def archive(request: Request, col: Collection, obj: str) -> Response:
    """Archive (delete) one object; 204 even when it did not exist, as HubSpot does."""
    key = object_key(request.params["object_id"])
    if key is not None:
        col.delete(key)
    return empty_response(204)


@router.route("POST", "/crm/v3/objects/{object:contacts}/gdpr-delete")
@crm
def gdpr_delete(request: Request, col: Collection, obj: str) -> Response:
    """Permanently delete a contact by ``objectId`` (optionally ``idProperty: email``)."""
    body = request.json()
    key = _find(col, body.get("idProperty"), str(body.get("objectId", "")))
    if key is None or not col.delete(key):
        return error(404, "OBJECT_NOT_FOUND", "resource not found")
    return empty_response(204)


# --- account and OAuth -----------------------------------------------------------
@router.route("GET", "/account-info/v3/details")
def account_details(request: Request) -> Response:
    """Portal details, a cheap connection check."""
    denied = authenticate(request, None)
    return denied or json_response({
        "portalId": accounts.HUBSPOT_PORTAL_ID, "accountType": "STANDARD",
        "timeZone": "US/Eastern", "companyCurrency": "USD", "additionalCurrencies": [],
        "utcOffset": "-05:00", "utcOffsetMilliseconds": -18_000_000,
        "uiDomain": "app.hubspot.com", "dataHostingLocation": "na1",
    })  # fmt: skip


@router.route("POST", "/oauth/v1/token")
def oauth_token(request: Request) -> Response:
    """Refresh-token grant returning a short-lived bearer token."""
    try:
        form = request.form()
    except BadRequestBody:
        form = {}
    problem = None
    if form.get("grant_type") != "refresh_token":
        problem = ("BAD_GRANT_TYPE", "missing or unsupported grant_type")
    elif form.get("client_id") != accounts.HUBSPOT_CLIENT_ID:
        problem = ("BAD_CLIENT_ID", "missing or unknown client id")
    elif form.get("client_secret") != accounts.HUBSPOT_CLIENT_SECRET:
        problem = ("BAD_CLIENT_SECRET", "missing or invalid client secret")
    elif form.get("refresh_token") != accounts.HUBSPOT_REFRESH_TOKEN:
        problem = ("BAD_REFRESH_TOKEN", "missing or unknown refresh token")
    if problem:
        return json_response({"status": problem[0], "message": problem[1],
                              "correlationId": new_correlation_id()}, 400)  # fmt: skip
    token = request.state.issue_token("hubspot", "CJSB-hubspot-")
    return json_response({"token_type": "bearer", "refresh_token": accounts.HUBSPOT_REFRESH_TOKEN,
                          "access_token": token.value, "expires_in": request.state.ttl("hubspot")})  # fmt: skip


def _not_found(request: Request) -> Response:
    return error(404, "OBJECT_NOT_FOUND", f"Unable to infer object type from: {request.path}")


def _rate_limited(request: Request, retry_after: str) -> Response:
    response = error(429, "RATE_LIMITS", "You have reached your ten_secondly_rolling limit.",
                     errorType="RATE_LIMIT", policyName="TEN_SECONDLY_ROLLING")  # fmt: skip
    response.headers += [("Retry-After", retry_after), *_rate_headers(0)]
    return response


def _server_error(request: Request, status: int) -> Response:
    return error(status, "INTERNAL_ERROR", "internal error")


APP = VendorApp(
    key="hubspot",
    prefix="/hubspot",
    router=router,
    not_found=_not_found,
    rate_limited=_rate_limited,
    server_error=_server_error,
    token_family="hubspot",
    unmetered_paths=("/oauth/v1/token",),
)
