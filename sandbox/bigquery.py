"""BigQuery API v2 (real host ``bigquery.googleapis.com``), mounted at ``/bigquery``.

Project ``sandbox-project`` holds dataset ``marketing`` with two tables,
``ga4_events`` and ``ad_spend``.  Datasets and tables can be listed and read;
``tabledata.list`` pages rows (values as strings, ``{"f": [{"v": ...}]}``)
with ``maxResults``/``pageToken``/``startIndex``; ``insertAll`` streams rows
in, validating them against the schema with BigQuery's per-row
``insertErrors`` (invalid rows fail the whole request unless
``skipInvalidRows``).  Errors use Google's document with the legacy
``errors[]`` list BigQuery still returns.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from typing import Any

from sandbox import accounts
from sandbox.dataset import Collection, Record
from sandbox.google_oauth import SCOPE_PREFIX, check_token, google_error, server_error
from sandbox.web import BadRequestBody, Request, Response, Router, VendorApp, json_response

SERVICE = "bigquery.googleapis.com"
READ_SCOPES = frozenset({SCOPE_PREFIX + "bigquery", SCOPE_PREFIX + "bigquery.readonly",
                         SCOPE_PREFIX + "cloud-platform.read-only"})  # fmt: skip
INSERT_SCOPES = frozenset({SCOPE_PREFIX + "bigquery", SCOPE_PREFIX + "bigquery.insertdata"})
SCHEMAS: dict[str, list[dict[str, str]]] = {
    "ga4_events": [
        {"name": "event_date", "type": "DATE", "mode": "REQUIRED"},
        {"name": "event_timestamp", "type": "INTEGER", "mode": "REQUIRED"},
        {"name": "event_name", "type": "STRING", "mode": "REQUIRED"},
        {"name": "user_pseudo_id", "type": "STRING", "mode": "NULLABLE"},
        {"name": "traffic_source", "type": "STRING", "mode": "NULLABLE"},
        {"name": "medium", "type": "STRING", "mode": "NULLABLE"},
        {"name": "campaign", "type": "STRING", "mode": "NULLABLE"},
        {"name": "engagement_time_msec", "type": "INTEGER", "mode": "NULLABLE"},
        {"name": "revenue", "type": "FLOAT", "mode": "NULLABLE"},
    ],
    "ad_spend": [
        {"name": "date", "type": "DATE", "mode": "REQUIRED"},
        {"name": "campaign_id", "type": "STRING", "mode": "REQUIRED"},
        {"name": "campaign_name", "type": "STRING", "mode": "NULLABLE"},
        {"name": "impressions", "type": "INTEGER", "mode": "NULLABLE"},
        {"name": "clicks", "type": "INTEGER", "mode": "NULLABLE"},
        {"name": "cost_micros", "type": "INTEGER", "mode": "NULLABLE"},
        {"name": "currency", "type": "STRING", "mode": "NULLABLE"},
    ],
}
CREATED_MS = "1767225600000"  # 2026-01-01T00:00:00Z
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_PAGE = 100_000
BASE = "/bigquery/v2/projects/{project}"
DS = BASE + "/datasets/{dataset}"
TABLE = DS + "/tables/{table}"

router = Router()


class BigQueryError(Exception):
    """Rendered as a Google error with a BigQuery ``errors[]`` entry."""

    def __init__(self, code: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message


def bq_error(code: int, reason: str, message: str) -> Response:
    """Google error document plus ``errors: [{message, domain, reason}]``."""
    return google_error(code, message, extra={"errors": [
        {"message": message, "domain": "global", "reason": reason}]})  # fmt: skip


def api(
    scopes: frozenset[str],
) -> Callable[[Callable[[Request], Response]], Callable[[Request], Response]]:
    """Authenticate, check project/dataset/table ids and render errors."""

    def deco(handler: Callable[[Request], Response]) -> Callable[[Request], Response]:
        def wrapped(request: Request) -> Response:
            denied = check_token(request, SERVICE, scopes)
            if denied is not None:
                return denied
            params = request.params
            try:
                if params.get("project") != accounts.BIGQUERY_PROJECT_ID:
                    raise BigQueryError(403, "accessDenied", f"Access Denied: Project "
                                        f"{params.get('project')}: User does not have "
                                        "bigquery.datasets.get permission in project "
                                        f"{params.get('project')}.")  # fmt: skip
                if "dataset" in params and params["dataset"] != accounts.BIGQUERY_DATASET_ID:
                    raise BigQueryError(404, "notFound", f"Not found: Dataset "
                                        f"{params['project']}:{params['dataset']}")  # fmt: skip
                if "table" in params and params["table"] not in SCHEMAS:
                    raise BigQueryError(404, "notFound", f"Not found: Table {params['project']}:"
                                        f"{params['dataset']}.{params['table']}")  # fmt: skip
                return handler(request)
            except BigQueryError as exc:
                return bq_error(exc.code, exc.reason, exc.message)
            except BadRequestBody as exc:
                return bq_error(400, "parseError", f"Parse error: {exc}")

        wrapped.__doc__ = handler.__doc__
        return wrapped

    return deco


def _dataset_doc() -> Record:
    project, dataset = accounts.BIGQUERY_PROJECT_ID, accounts.BIGQUERY_DATASET_ID
    return {"kind": "bigquery#dataset", "id": f"{project}:{dataset}",
            "datasetReference": {"datasetId": dataset, "projectId": project},
            "location": "US", "creationTime": CREATED_MS, "lastModifiedTime": CREATED_MS,
            "etag": "c2FuZGJveA==", "type": "DEFAULT"}  # fmt: skip


def _table_ref(table: str) -> Record:
    return {"projectId": accounts.BIGQUERY_PROJECT_ID,
            "datasetId": accounts.BIGQUERY_DATASET_ID, "tableId": table}  # fmt: skip


def _rows(request: Request, table: str) -> Collection:
    return request.state.dataset.collection("bigquery", table)


@router.route("GET", BASE + "/datasets")
@api(READ_SCOPES)
def list_datasets(request: Request) -> Response:
    """``datasets.list``."""
    doc = _dataset_doc()
    entry = {k: doc[k] for k in ("kind", "id", "datasetReference", "location")}
    return json_response({"kind": "bigquery#datasetList", "etag": "c2FuZGJveA==",
                          "datasets": [entry]})  # fmt: skip


@router.route("GET", DS)
@api(READ_SCOPES)
def get_dataset(request: Request) -> Response:
    """``datasets.get``."""
    return json_response(_dataset_doc())


@router.route("GET", DS + "/tables")
@api(READ_SCOPES)
def list_tables(request: Request) -> Response:
    """``tables.list``."""
    project, dataset = accounts.BIGQUERY_PROJECT_ID, accounts.BIGQUERY_DATASET_ID
    tables = [{"kind": "bigquery#table", "id": f"{project}:{dataset}.{t}",
               "tableReference": _table_ref(t), "type": "TABLE", "creationTime": CREATED_MS}
              for t in SCHEMAS]  # fmt: skip
    return json_response({"kind": "bigquery#tableList", "etag": "c2FuZGJveA==",
                          "tables": tables, "totalItems": len(tables)})  # fmt: skip


@router.route("GET", TABLE)
@api(READ_SCOPES)
def get_table(request: Request) -> Response:
    """``tables.get``: metadata and schema."""
    table = request.params["table"]
    rows = _rows(request, table).live_count
    project, dataset = accounts.BIGQUERY_PROJECT_ID, accounts.BIGQUERY_DATASET_ID
    return json_response({
        "kind": "bigquery#table", "etag": "c2FuZGJveA==", "id": f"{project}:{dataset}.{table}",
        "selfLink": f"{request.vendor_base}{request.path}", "tableReference": _table_ref(table),
        "schema": {"fields": SCHEMAS[table]}, "numBytes": str(rows * 120), "numRows": str(rows),
        "creationTime": CREATED_MS, "lastModifiedTime": CREATED_MS, "type": "TABLE",
        "location": "US",
    })  # fmt: skip


def _cell(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _page_start(request: Request) -> int:
    token = request.arg("pageToken")
    try:
        if token:
            return int(base64.urlsafe_b64decode(token.encode()).decode())
        return int(request.arg("startIndex") or 0)
    except ValueError:
        raise BigQueryError(400, "invalid", "Invalid page token.") from None


@router.route("GET", TABLE + "/data")
@api(READ_SCOPES)
def list_rows(request: Request) -> Response:
    """``tabledata.list``: rows in insertion order, values rendered as strings."""
    table = request.params["table"]
    col = _rows(request, table)
    try:
        max_results = min(int(request.arg("maxResults") or MAX_PAGE), MAX_PAGE)
    except ValueError:
        raise BigQueryError(400, "invalid", "Invalid value for maxResults") from None
    schema = SCHEMAS[table]
    selected = request.arg("selectedFields")
    names = [f.strip() for f in selected.split(",")] if selected else [f["name"] for f in schema]
    unknown = [n for n in names if n not in {f["name"] for f in schema}]
    if unknown:
        raise BigQueryError(400, "invalid", f"Field {unknown[0]} not found in table schema")
    keys, more = col.scan(_page_start(request), max(max_results, 1))
    rows = [{"f": [{"v": _cell(r.get(n))} for n in names]} for r in map(col.get, keys) if r]
    body: dict[str, Any] = {"kind": "bigquery#tableDataList", "etag": "c2FuZGJveA==",
                            "totalRows": str(col.live_count)}  # fmt: skip
    if more:
        body["pageToken"] = base64.urlsafe_b64encode(str(keys[-1] + 1).encode()).decode()
    if rows:
        body["rows"] = rows
    return json_response(body)


def _coerce(field: dict[str, str], value: Any) -> Any:
    kind = field["type"]
    if value is None:
        if field["mode"] == "REQUIRED":
            raise ValueError(f"Missing required field: {field['name']}.")
        return None
    if kind == "INTEGER" and not isinstance(value, bool):
        if isinstance(value, int) or (isinstance(value, str) and value.lstrip("-").isdigit()):
            return int(value)
    elif kind == "FLOAT" and not isinstance(value, bool):
        try:
            return float(value)
        except (TypeError, ValueError):
            pass
    elif kind == "DATE" and isinstance(value, str) and DATE_RE.match(value):
        return value
    elif kind == "STRING" and isinstance(value, str | int | float) and not isinstance(value, bool):
        return str(value)
    raise ValueError(f"Cannot convert value to {kind.lower()}: {value!r}")


def _validate_row(
    schema: list[dict[str, str]], data: Any, ignore_unknown: bool
) -> tuple[Record, list[dict[str, str]]]:
    if not isinstance(data, dict):
        return {}, [{"reason": "invalid", "location": "", "debugInfo": "",
                     "message": "Row must be a JSON object."}]  # fmt: skip
    by_name = {f["name"]: f for f in schema}
    errors = []
    for name in data:
        if name not in by_name and not ignore_unknown:
            errors.append({"reason": "invalid", "location": name, "debugInfo": "",
                           "message": f"no such field: {name}."})  # fmt: skip
    row: Record = {}
    for name, field in by_name.items():
        try:
            row[name] = _coerce(field, data.get(name))
        except ValueError as exc:
            errors.append({"reason": "invalid", "location": name, "debugInfo": "",
                           "message": str(exc)})  # fmt: skip
    return row, errors


@router.route("POST", TABLE + "/insertAll")
@api(INSERT_SCOPES)
def insert_all(request: Request) -> Response:
    """``tabledata.insertAll`` (streaming insert) with per-row errors."""
    table = request.params["table"]
    body = request.json()
    rows = body.get("rows") if isinstance(body, dict) else None
    if not isinstance(rows, list) or not rows:
        raise BigQueryError(400, "invalid", "No rows present in the request.")
    schema = SCHEMAS[table]
    checked = [_validate_row(schema, r.get("json") if isinstance(r, dict) else None,
                             bool(body.get("ignoreUnknownValues"))) for r in rows]  # fmt: skip
    failed = {i for i, (_, errs) in enumerate(checked) if errs}
    insert_errors = [{"index": i, "errors": checked[i][1]} for i in sorted(failed)]
    skip_invalid = bool(body.get("skipInvalidRows"))
    if failed and not skip_invalid:
        stopped = [{"reason": "stopped", "location": "", "debugInfo": "", "message": ""}]
        insert_errors += [
            {"index": i, "errors": stopped} for i in range(len(rows)) if i not in failed
        ]
        insert_errors.sort(key=lambda e: e["index"])
    else:
        col = _rows(request, table)
        with request.state.lock:
            seen = request.state.extras.setdefault("bigquery_insert_ids", set())
        for index, (row, _) in enumerate(checked):
            insert_id = rows[index].get("insertId")
            if index in failed or (insert_id and (table, insert_id) in seen):
                continue
            if insert_id:
                seen.add((table, insert_id))
            col.create(lambda key, ts, row=row: dict(row))
    result: dict[str, Any] = {"kind": "bigquery#tableDataInsertAllResponse"}
    if insert_errors:
        result["insertErrors"] = insert_errors
    return json_response(result)


def _not_found(request: Request) -> Response:
    return bq_error(404, "notFound", f"Not found: URL {request.path}")


def _rate_limited(request: Request, retry_after: str) -> Response:
    return google_error(429, "Exceeded rate limits: too many api requests per user per method "
                        "for this user_method.", extra={"errors": [{
                            "message": "Exceeded rate limits", "domain": "usageLimits",
                            "reason": "rateLimitExceeded"}]}).header("Retry-After", retry_after)  # fmt: skip


APP = VendorApp(
    key="bigquery",
    prefix="/bigquery",
    router=router,
    not_found=_not_found,
    rate_limited=_rate_limited,
    server_error=server_error,
    token_family="google",
)
