"""Salesforce REST API (an org's ``instance_url``), mounted at ``/salesforce``.

OAuth token endpoint (client-credentials and refresh-token grants), the
versions/resources/limits documents, SOQL ``query`` with query-locator
pagination (``nextRecordsUrl``, batches of 2000 or ``Sforce-Query-Options:
batchSize=N``), sObject describe/read/create/update/upsert-by-external-id and
delete for ``Contact``, ``Lead`` and ``Opportunity``.  Errors are Salesforce's
``[{"message", "errorCode"}]`` arrays.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import re
import time
from collections.abc import Callable
from typing import Any

from sandbox import accounts
from sandbox.dataset import Collection, Record, parse_timestamp
from sandbox.records import email_key, sf_id, sf_key, sf_time
from sandbox.web import (
    BadRequestBody,
    Request,
    Response,
    Router,
    VendorApp,
    empty_response,
    json_response,
)

SOBJECTS = {"contact": "Contact", "lead": "Lead", "opportunity": "Opportunity"}
KEY_PREFIX = {"Contact": "003", "Lead": "00Q", "Opportunity": "006"}
COMMON = {"Id": "id", "IsDeleted": "boolean", "CreatedDate": "datetime",
          "LastModifiedDate": "datetime", "SystemModstamp": "datetime"}  # fmt: skip
FIELDS: dict[str, dict[str, str]] = {
    "Contact": {**COMMON, "FirstName": "string", "LastName": "string", "Name": "string",
                "Email": "email", "Email__c": "email", "Phone": "phone", "Title": "string",
                "AccountId": "reference", "LeadSource": "picklist", "MailingCountry": "string"},
    "Lead": {**COMMON, "FirstName": "string", "LastName": "string", "Name": "string",
             "Email": "email", "Email__c": "email", "Company": "string", "Status": "picklist",
             "LeadSource": "picklist", "Country": "string"},
    "Opportunity": {**COMMON, "Name": "string", "Amount": "currency", "StageName": "picklist",
                    "Probability": "percent", "CloseDate": "date", "AccountId": "reference",
                    "LeadSource": "picklist"},
}  # fmt: skip
READ_ONLY = set(COMMON) | {"Name"}
REQUIRED = {"Contact": ["LastName"], "Lead": ["LastName", "Company"],
            "Opportunity": ["Name", "StageName", "CloseDate"]}  # fmt: skip
EXTERNAL_IDS = {"Contact": {"Email__c"}, "Lead": {"Email__c"}, "Opportunity": set()}
TIME_FIELDS = {"lastmodifieddate", "systemmodstamp"}
DEFAULT_BATCH, MIN_BATCH, MAX_BATCH = 2000, 200, 2000
VERSION = r"{version:v\d+\.\d}"
SOQL = re.compile(
    r"^\s*SELECT\s+(?P<fields>.+?)\s+FROM\s+(?P<object>\w+)"
    r"(?:\s+WHERE\s+(?P<where>.+?))?(?:\s+ORDER\s+BY\s+(?P<order>.+?))?"
    r"(?:\s+LIMIT\s+(?P<limit>\d+))?(?:\s+OFFSET\s+(?P<offset>\d+))?\s*$",
    re.IGNORECASE | re.DOTALL,
)
CONDITION = re.compile(r"^\s*(\w+)\s*(>=|<=|>|<|=)\s*(\S+)\s*$")
_locators = itertools.count(1)

router = Router()


class SalesforceError(Exception):
    """Rendered as ``[{"message", "errorCode"}]`` with ``status``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def error(status: int, code: str, message: str) -> Response:
    """Salesforce's error array."""
    return json_response([{"message": message, "errorCode": code}], status)


def api(handler: Callable[[Request], Response]) -> Callable[[Request], Response]:
    """Require a valid session and render :class:`SalesforceError`."""

    def wrapped(request: Request) -> Response:
        token = request.state.lookup_token(request.bearer(), "salesforce")
        if token is None or token.status() != "valid":
            return error(401, "INVALID_SESSION_ID", "Session expired or invalid")
        try:
            return handler(request)
        except SalesforceError as exc:
            return error(exc.status, exc.code, exc.message)
        except BadRequestBody as exc:
            return error(400, "JSON_PARSER_ERROR", f"Unexpected character: {exc}")

    wrapped.__doc__ = handler.__doc__
    return wrapped


def _sobject(name: str) -> str:
    canonical = SOBJECTS.get(name.lower())
    if canonical is None:
        raise SalesforceError(404, "NOT_FOUND", "The requested resource does not exist")
    return canonical


def _collection(request: Request, sobject: str) -> Collection:
    return request.state.dataset.collection("salesforce", sobject)


# --- OAuth ---------------------------------------------------------------------
@router.route("POST", "/services/oauth2/token")
def oauth_token(request: Request) -> Response:
    """Client-credentials or refresh-token grant, answered as Salesforce does."""
    try:
        form = request.form()
    except BadRequestBody:
        form = {}
    grant = form.get("grant_type")
    if grant not in ("client_credentials", "refresh_token"):
        return json_response({"error": "unsupported_grant_type",
                              "error_description": "grant type not supported"}, 400)  # fmt: skip
    secret = form.get("client_secret")
    if form.get("client_id") != accounts.SALESFORCE_CLIENT_ID or (
        (grant == "client_credentials" or secret is not None)
        and secret != accounts.SALESFORCE_CLIENT_SECRET
    ):
        return json_response({"error": "invalid_client",
                              "error_description": "invalid client credentials"}, 400)  # fmt: skip
    if grant == "refresh_token" and form.get("refresh_token") != accounts.SALESFORCE_REFRESH_TOKEN:
        return json_response({"error": "invalid_grant",
                              "error_description": "expired access/refresh token"}, 400)  # fmt: skip
    token = request.state.issue_token("salesforce", accounts.SALESFORCE_ORG_ID[:15] + "!AQ")
    instance_url = request.vendor_base
    identity = f"{instance_url}/id/{accounts.SALESFORCE_ORG_ID}/{accounts.SALESFORCE_USER_ID}"
    issued_at = str(int(time.time() * 1000))
    digest = hmac.new(accounts.SALESFORCE_CLIENT_SECRET.encode(),
                      (identity + issued_at).encode(), hashlib.sha256).digest()  # fmt: skip
    body = {"access_token": token.value, "signature": base64.b64encode(digest).decode(),
            "scope": "api refresh_token", "instance_url": instance_url, "id": identity,
            "token_type": "Bearer", "issued_at": issued_at}  # fmt: skip
    return json_response(body)


# --- discovery -------------------------------------------------------------------
@router.route("GET", "/services/data/?")
def versions(request: Request) -> Response:
    """Available API versions (no auth, as on Salesforce)."""
    return json_response([{"label": "Spring '24", "url": "/services/data/v60.0",
                           "version": "60.0"}])  # fmt: skip


@router.route("GET", f"/services/data/{VERSION}/?")
@api
def resources(request: Request) -> Response:
    """Resources available in this API version."""
    base = f"/services/data/{request.params['version']}"
    names = ["sobjects", "query", "queryAll", "limits", "search", "composite", "tooling"]
    return json_response({name: f"{base}/{name}" for name in names})


@router.route("GET", f"/services/data/{VERSION}/limits/?")
@api
def limits(request: Request) -> Response:
    """Org limits; a cheap connection check."""
    return json_response({
        "DailyApiRequests": {"Max": 100000, "Remaining": 99990},
        "DailyBulkApiBatches": {"Max": 15000, "Remaining": 15000},
        "DataStorageMB": {"Max": 1024, "Remaining": 1000},
        "ConcurrentPerOrgLongTxn": {"Max": 10, "Remaining": 10},
    })  # fmt: skip


@router.route("GET", f"/services/data/{VERSION}/sobjects/?")
@api
def describe_global(request: Request) -> Response:
    """The queryable sObjects of the sandbox org."""
    base = f"/services/data/{request.params['version']}/sobjects"
    objects = [{"name": n, "label": n, "keyPrefix": KEY_PREFIX[n], "queryable": True,
                "createable": True, "updateable": True, "deletable": True,
                "urls": {"sobject": f"{base}/{n}", "describe": f"{base}/{n}/describe"}}
               for n in FIELDS]  # fmt: skip
    return json_response({"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": objects})


@router.route("GET", f"/services/data/{VERSION}/sobjects/{{sobject}}/describe/?")
@api
def describe(request: Request) -> Response:
    """Field metadata of one sObject."""
    name = _sobject(request.params["sobject"])
    fields = [{"name": f, "label": f, "type": t, "nillable": f not in REQUIRED[name],
               "createable": f not in READ_ONLY, "updateable": f not in READ_ONLY,
               "externalId": f in EXTERNAL_IDS[name]} for f, t in FIELDS[name].items()]  # fmt: skip
    return json_response({"name": name, "label": name, "keyPrefix": KEY_PREFIX[name],
                          "queryable": True, "fields": fields})  # fmt: skip


# --- SOQL ----------------------------------------------------------------------
def _parse(soql: str) -> dict[str, Any]:
    match = SOQL.match(soql)
    if not match:
        raise SalesforceError(400, "MALFORMED_QUERY", f"unexpected token in query: {soql[:80]}")
    sobject = SOBJECTS.get(match["object"].lower())
    if sobject is None:
        raise SalesforceError(400, "INVALID_TYPE", f"\n{soql}\nsObject type '{match['object']}' "
                              "is not supported. If you are attempting to use a custom object, "
                              "be sure to append the '__c' after the entity name.")  # fmt: skip
    canonical = {f.lower(): f for f in FIELDS[sobject]}
    raw_fields = [f.strip() for f in match["fields"].split(",")]
    count_only = [f.lower() for f in raw_fields] == ["count()"]
    fields = []
    for raw in [] if count_only else raw_fields:
        if raw.lower() not in canonical:
            raise SalesforceError(400, "INVALID_FIELD", f"\n{soql}\nNo such column '{raw}' on "
                                  f"entity '{sobject}'. If you are attempting to use a custom "
                                  "field, be sure to append the '__c' after the custom field "
                                  "name. Please reference your WSDL or the describe call for "
                                  "the appropriate names.")  # fmt: skip
        fields.append(canonical[raw.lower()])
    since = until = None
    for part in re.split(r"\s+AND\s+", match["where"] or "", flags=re.IGNORECASE):
        if not part.strip():
            continue
        cond = CONDITION.match(part)
        if not cond or cond[1].lower() not in TIME_FIELDS:
            raise SalesforceError(400, "MALFORMED_QUERY", "The sandbox supports WHERE on "
                                  "LastModifiedDate/SystemModstamp comparisons only")  # fmt: skip
        try:
            value = parse_timestamp(cond[3])
        except ValueError:
            raise SalesforceError(400, "INVALID_QUERY_FILTER_OPERATOR",
                                  f"value of filter criterion for field '{cond[1]}' must be of "
                                  "type dateTime and should not be enclosed in quotes") from None  # fmt: skip
        op = cond[2]
        low = {">": value + 1, ">=": value, "=": value}.get(op)
        high = {"<": value, "<=": value + 1, "=": value + 1}.get(op)
        since = low if low is not None and (since is None or low > since) else since
        until = high if high is not None and (until is None or high < until) else until
    order = (match["order"] or "").strip().split()
    if order and order[0].lower() not in TIME_FIELDS | {"id", "createddate"}:
        raise SalesforceError(400, "MALFORMED_QUERY", "The sandbox supports ORDER BY "
                              "LastModifiedDate, SystemModstamp or Id only")  # fmt: skip
    return {"sobject": sobject, "fields": fields, "count_only": count_only, "since": since,
            "until": until, "descending": len(order) > 1 and order[1].upper() == "DESC",
            "limit": int(match["limit"]) if match["limit"] else None,
            "offset": int(match["offset"] or 0)}  # fmt: skip


def _batch_size(request: Request, default: int) -> int:
    options = request.header("sforce-query-options") or ""
    found = re.search(r"batchSize\s*=\s*(\d+)", options)
    if not found:
        return default
    return min(max(int(found.group(1)), MIN_BATCH), MAX_BATCH)


def _shape(record: Record, fields: list[str], version: str) -> Record:
    attributes = dict(record["attributes"])
    attributes["url"] = attributes["url"].replace("/v60.0/", f"/{version}/")
    return {"attributes": attributes, **{f: record.get(f) for f in fields}}


def _page(request: Request, cursor: dict[str, Any], position: int) -> Response:
    col = _collection(request, cursor["sobject"])
    view = col.window(cursor["since"], cursor["until"])
    total = max(view.total - cursor["offset"], 0)
    if cursor["limit"] is not None:
        total = min(total, cursor["limit"])
    if cursor["count_only"]:
        return json_response({"totalSize": total, "done": True, "records": []})
    batch = _batch_size(request, cursor["batch"])
    count = max(min(batch, total - position), 0)
    keys = view.page(cursor["offset"] + position, count, cursor["descending"])
    version = request.params["version"]
    records = [_shape(r, cursor["fields"], version) for r in map(col.get, keys) if r]
    body: dict[str, Any] = {"totalSize": total, "done": position + count >= total,
                            "records": records}  # fmt: skip
    if not body["done"]:
        body["nextRecordsUrl"] = (
            f"/services/data/{version}/query/{cursor['locator']}-{position + count}"
        )
    return json_response(body)


@router.route("GET", f"/services/data/{VERSION}/{{kind:query|queryAll}}/?")
@api
def query(request: Request) -> Response:
    """Run a SOQL query; the first batch plus ``nextRecordsUrl`` when there is more."""
    soql = request.arg("q")
    if not soql:
        raise SalesforceError(400, "MALFORMED_QUERY", "A query string has to be specified")
    cursor = _parse(soql)
    cursor["batch"] = _batch_size(request, DEFAULT_BATCH)
    cursor["locator"] = f"01gSB{next(_locators):010d}"
    with request.state.lock:
        request.state.extras.setdefault("salesforce_cursors", {})[cursor["locator"]] = cursor
    return _page(request, cursor, 0)


@router.route("GET", f"/services/data/{VERSION}/query/{{locator}}-{{position:\\d+}}")
@api
def query_more(request: Request) -> Response:
    """Follow a ``nextRecordsUrl``."""
    cursors = request.state.extras.get("salesforce_cursors", {})
    cursor = cursors.get(request.params["locator"])
    if cursor is None:
        raise SalesforceError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
    return _page(request, cursor, int(request.params["position"]))


# --- sObject rows -------------------------------------------------------------------
def _check_fields(sobject: str, body: Any, creating: bool) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise SalesforceError(400, "JSON_PARSER_ERROR", "Expected a JSON object")
    for name in body:
        if name == "attributes":
            continue
        if name not in FIELDS[sobject]:
            raise SalesforceError(400, "INVALID_FIELD", f"No such column '{name}' on sobject "
                                  f"of type {sobject}")  # fmt: skip
        if name in READ_ONLY:
            raise SalesforceError(400, "INVALID_FIELD_FOR_INSERT_UPDATE", "Unable to create/"
                                  f"update fields: {name}. Please check the security settings "
                                  "of this field and verify that it is read/write for your "
                                  "profile or permission set.")  # fmt: skip
    missing = [f for f in REQUIRED[sobject] if creating and not body.get(f)]
    if missing:
        raise SalesforceError(400, "REQUIRED_FIELD_MISSING",
                              f"Required fields are missing: [{', '.join(missing)}]")  # fmt: skip
    return {k: v for k, v in body.items() if k != "attributes"}


def _merge(sobject: str, values: dict[str, Any]) -> Callable[[Record, int], Record]:
    def change(record: Record, ts: int) -> Record:
        record.update(values)
        if "Email" in values and "Email__c" in FIELDS[sobject]:
            record.setdefault("Email__c", values["Email"])
        if sobject != "Opportunity":
            record["Name"] = " ".join(
                filter(None, [record.get("FirstName"), record.get("LastName")])
            )
        record["LastModifiedDate"] = record["SystemModstamp"] = sf_time(ts)
        return record

    return change


def _create(col: Collection, sobject: str, values: dict[str, Any]) -> str:
    def build(key: int, ts: int) -> Record:
        record_id = sf_id(KEY_PREFIX[sobject], key)
        base = {f: None for f in FIELDS[sobject]} | {
            "attributes": {"type": sobject,
                           "url": f"/services/data/v60.0/sobjects/{sobject}/{record_id}"},
            "Id": record_id, "IsDeleted": False, "CreatedDate": sf_time(ts),
        }  # fmt: skip
        return _merge(sobject, values)(base, ts)

    return col.create(build)[1]["Id"]


def _key(sobject: str, record_id: str) -> int:
    key = sf_key(record_id, KEY_PREFIX[sobject])
    if key is None:
        raise SalesforceError(404, "NOT_FOUND", "Provided external ID field does not exist or "
                              "is not accessible: " + record_id)  # fmt: skip
    return key


@router.route("POST", f"/services/data/{VERSION}/sobjects/{{sobject}}/?")
@api
def create(request: Request) -> Response:
    """Insert one record (201)."""
    sobject = _sobject(request.params["sobject"])
    values = _check_fields(sobject, request.json(), creating=True)
    record_id = _create(_collection(request, sobject), sobject, values)
    return json_response({"id": record_id, "success": True, "errors": []}, 201)


@router.route("GET", f"/services/data/{VERSION}/sobjects/{{sobject}}/{{record_id}}")
@api
def retrieve(request: Request) -> Response:
    """Read one record by id (optionally ``?fields=A,B``)."""
    sobject = _sobject(request.params["sobject"])
    record = _collection(request, sobject).get(_key(sobject, request.params["record_id"]))
    if record is None:
        raise SalesforceError(404, "NOT_FOUND", "The requested resource does not exist")
    fields = [f for f in (request.arg("fields") or "").split(",") if f] or list(FIELDS[sobject])
    return json_response(_shape(record, fields, request.params["version"]))


@router.route("PATCH", f"/services/data/{VERSION}/sobjects/{{sobject}}/{{record_id}}")
@api
def update(request: Request) -> Response:
    """Update one record by id (204)."""
    sobject = _sobject(request.params["sobject"])
    values = _check_fields(sobject, request.json(), creating=False)
    key = _key(sobject, request.params["record_id"])
    if _collection(request, sobject).update(key, _merge(sobject, values)) is None:
        raise SalesforceError(404, "NOT_FOUND", "The requested resource does not exist")
    return empty_response(204)


@router.route("PATCH", f"/services/data/{VERSION}/sobjects/{{sobject}}/{{field}}/{{value}}")
@api
def upsert(request: Request) -> Response:
    """Upsert by external id field (``Email__c``): 201 created, 200 updated."""
    sobject = _sobject(request.params["sobject"])
    field, value = request.params["field"], request.params["value"]
    if field not in EXTERNAL_IDS[sobject]:
        raise SalesforceError(404, "NOT_FOUND", "Provided external ID field does not exist or "
                              f"is not accessible: {field}")  # fmt: skip
    body = request.json()
    col = _collection(request, sobject)
    key = col.find(lambda r: r.get(field), value.lower(), email_key(value))
    values = _check_fields(sobject, body, creating=key is None) | {field: value.lower()}
    if key is None:
        return json_response({"id": _create(col, sobject, values), "success": True,
                              "errors": [], "created": True}, 201)  # fmt: skip
    record = col.update(key, _merge(sobject, values))
    assert record is not None
    return json_response({"id": record["Id"], "success": True, "errors": [], "created": False})


@router.route("DELETE", f"/services/data/{VERSION}/sobjects/{{sobject}}/{{record_id}}")
@api
def delete(request: Request) -> Response:
    """Delete one record (204)."""
    sobject = _sobject(request.params["sobject"])
    if not _collection(request, sobject).delete(_key(sobject, request.params["record_id"])):
        raise SalesforceError(404, "ENTITY_IS_DELETED", "entity is deleted")
    return empty_response(204)


def _not_found(request: Request) -> Response:
    return error(404, "NOT_FOUND", "The requested resource does not exist")


def _rate_limited(request: Request, retry_after: str) -> Response:
    return error(429, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.").header(
        "Retry-After", retry_after
    )


def _server_error(request: Request, status: int) -> Response:
    return error(status, "UNKNOWN_EXCEPTION", "An unexpected error occurred. Please include "
                 "this ErrorId if you contact support: 1234567890-12345 (-1234567890)")  # fmt: skip


APP = VendorApp(
    key="salesforce",
    prefix="/salesforce",
    router=router,
    not_found=_not_found,
    rate_limited=_rate_limited,
    server_error=_server_error,
    token_family="salesforce",
    unmetered_paths=("/services/oauth2/token",),
)
