"""Reading a stream: its pages of records, through the gateway, resumable after any page.

    reader = StreamReader(gateway, connection, stream, since="2026-10-30T00:00:00.000Z")
    for page in reader.pages():
        store(page.records)
        commit(page.resume, page.max_cursor)   # resume=None after the last page

Each ``Page`` carries the state that asks for the page after it, so a run cut off anywhere
restarts with ``StreamReader(..., resume=page.resume)`` and reads exactly what was left.

Records come out normalised: objects as the vendor returned them; GA4 report rows as
``{dimension: value, ..., metric: value}`` (values as GA4 sends them: ``date`` as
``YYYYMMDD``, metrics as strings); BigQuery ``{"f": [{"v": ...}]}`` rows as
``{column: value}`` using the table's schema (read once from ``tables.get``).

Incremental reads start from ``since`` less the stream's ``lookback_minutes``. With
``incremental.param`` that moment is sent to the vendor, written in ``incremental.format``:
as a query parameter, or, when the stream sends a JSON body (a search endpoint), at that
dotted path of the body. Without ``param`` the vendor cannot filter, so every page is read
and records whose cursor is not newer than that moment are skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from core.connectors.paginators import PageRequest, paginator_for
from core.connectors.records import (
    MISSING,
    deepest_container,
    fill_template,
    set_value_at,
    value_at,
)
from core.connectors.registry import Connection
from core.connectors.template import ApiKeyQueryAuth, Incremental, Stream
from core.errors import ConfigurationError, InputError, UnexpectedShape
from core.gateway import CallContext, Gateway, GatewayResponse, fill

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# lists in a report answer that describe the rows rather than hold them
_REPORT_METADATA = frozenset({"dimensionHeaders", "metricHeaders"})


@dataclass(frozen=True)
class Page:
    """One page of a stream, ready to commit with its checkpoint."""

    # the page's records, normalised, less those an incremental read skips
    records: list[dict[str, Any]]
    # the state that asks for the next page; None after the last one
    resume: dict[str, Any] | None
    # the largest incremental cursor on the page, written in ``incremental.format``
    max_cursor: str | None
    # how many records the vendor sent, before any were skipped
    raw_count: int


def record_key(stream: Stream, record: dict[str, Any]) -> str:
    """The record's primary key as text; ``""`` when the record has none.

    The key is a dotted path, or several joined by commas for rows identified by more
    than one field (report rows: a campaign on a date), whose values are joined by ``|``.

    >>> from core.connectors.catalog import default_catalog
    >>> ads = default_catalog().get("google_ads").streams[0]
    >>> record_key(ads, {"campaign": {"id": "42"}, "segments": {"date": "2026-11-01"}})
    '42|2026-11-01'
    """
    parts = []
    for path in stream.primary_key.split(","):
        value = value_at(record, path.strip())
        if value is MISSING or value is None or isinstance(value, dict | list):
            return ""
        parts.append(str(value))
    return "|".join(parts)


# --- cursor values -----------------------------------------------------------------------


def parse_cursor(value: Any, fmt: str) -> datetime | None:
    """A cursor value (ISO 8601, a date, ``YYYYMMDD``, Unix seconds or ms) as UTC time.

    ``fmt`` (the stream's ``incremental.format``) settles what a bare number means.
    None when the value is not a time.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return _from_number(float(value), fmt)
    text = str(value).strip()
    if not text:
        return None
    digits = text.lstrip("-")
    if digits.isdigit():
        if len(text) == 8 and fmt not in ("unix", "unix_ms"):
            text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
        else:
            return _from_number(float(text), fmt)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _from_number(number: float, fmt: str) -> datetime | None:
    in_ms = fmt == "unix_ms" or (fmt != "unix" and abs(number) >= 1e11)
    try:
        return _EPOCH + timedelta(milliseconds=number if in_ms else number * 1000)
    except OverflowError:
        return None


def format_cursor(moment: datetime, fmt: str) -> str:
    """``moment`` written as ``fmt``; fixed width, so later times compare greater as text.

    >>> format_cursor(datetime(2026, 10, 30, 8, 5, tzinfo=UTC), "iso8601")
    '2026-10-30T08:05:00.000Z'
    >>> format_cursor(datetime(2026, 10, 30, 8, 5, tzinfo=UTC), "unix")
    '1793347500'
    """
    moment = moment.astimezone(UTC)
    if fmt == "unix":
        return str((moment - _EPOCH) // timedelta(seconds=1))
    if fmt == "unix_ms":
        return str((moment - _EPOCH) // timedelta(milliseconds=1))
    if fmt == "date":
        return moment.date().isoformat()
    millis = moment.microsecond // 1000
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{millis:03d}Z"


def _example(fmt: str) -> str:
    return format_cursor(datetime(2026, 10, 30, 8, 0, tzinfo=UTC), fmt)


# --- row formats -------------------------------------------------------------------------


def ga4_rows(rows: list[Any], body: Any) -> list[dict[str, Any]]:
    """GA4 report rows as flat records named by the answer's dimension and metric headers."""
    dimensions = [h.get("name") for h in body.get("dimensionHeaders") or []]
    metrics = [h.get("name") for h in body.get("metricHeaders") or []]
    records = []
    for row in rows:
        record: dict[str, Any] = {}
        for name, cell in zip(dimensions, row.get("dimensionValues") or [], strict=False):
            record[name] = cell.get("value")
        for name, cell in zip(metrics, row.get("metricValues") or [], strict=False):
            record[name] = cell.get("value")
        records.append(record)
    return records


def bigquery_row(row: dict[str, Any], fields: list[dict[str, Any]]) -> dict[str, Any]:
    """One ``{"f": [{"v": ...}]}`` row as ``{column: value}``, nested and repeated included."""
    record: dict[str, Any] = {}
    for field, cell in zip(fields, row.get("f") or [], strict=False):
        record[field["name"]] = _bigquery_value(cell.get("v"), field)
    return record


def _bigquery_value(value: Any, field: dict[str, Any]) -> Any:
    if field.get("mode") == "REPEATED" and isinstance(value, list):
        single = {**field, "mode": "NULLABLE"}
        return [_bigquery_value(item.get("v"), single) for item in value]
    if field.get("type") in ("RECORD", "STRUCT") and isinstance(value, dict):
        return bigquery_row(value, field.get("fields") or [])
    return value


# --- the reader --------------------------------------------------------------------------


class StreamReader:
    """Reads one stream of a connection page by page (see the module docstring).

    ``since`` is the last committed cursor (any format ``parse_cursor`` reads); ``resume``
    a ``Page.resume`` from an earlier, interrupted walk; ``page_size`` overrides the
    template's page size where the pagination style names one (offset, page number).
    """

    def __init__(
        self,
        gateway: Gateway,
        connection: Connection,
        stream: Stream,
        *,
        since: str | None = None,
        resume: dict[str, Any] | None = None,
        context: CallContext | None = None,
        page_size: int | None = None,
    ) -> None:
        if page_size is not None and page_size < 1:
            raise InputError.one("Page size", "must be at least 1.")
        self.gateway = gateway
        self.connection = connection
        self.stream = stream
        self.since = since
        self.resume = resume
        self.context = context
        self.page_size = page_size
        # records whose cursor is not after this moment are older than the checkpoint
        self.threshold = self._threshold(since)
        self._schema: list[dict[str, Any]] | None = None

    @property
    def _name(self) -> str:
        return f"{self.connection.template.name} {self.stream.name}"

    def _threshold(self, since: str | None) -> datetime | None:
        incremental = self.stream.incremental
        if since is None or since == "" or incremental is None:
            return None
        moment = parse_cursor(since, incremental.format)
        if moment is None:
            raise InputError.one(
                "Since",
                f"'{since}' is not a time; write it as {incremental.format}, e.g. "
                f"{_example(incremental.format)}.",
            )
        return moment - timedelta(minutes=incremental.lookback_minutes)

    def first_request(self) -> PageRequest:
        """The stream's own request: its params and body, plus the incremental filter."""
        stream = self.stream
        plain = {
            k: v
            for k, v in self.connection.values.items()
            if k not in {f.name for f in self.connection.template.secret_fields}
        }
        params = dict(stream.params)
        body = fill_template(stream.body, None, plain) if stream.body is not None else None
        incremental = stream.incremental
        if incremental is not None and incremental.param and self.threshold is not None:
            value = format_cursor(self.threshold, incremental.format)
            if isinstance(body, dict):
                set_value_at(body, incremental.param, value)
            else:
                params[incremental.param] = value
        return PageRequest(stream.path, params, body)

    def pages(self) -> Iterator[Page]:
        """The stream's pages, in order; the last one has ``resume`` None."""
        auth = self.connection.template.auth
        # an API key sent in the query must not end up in a stored next-page URL
        private = {auth.param} if isinstance(auth, ApiKeyQueryAuth) else set()
        paginator = paginator_for(
            self.stream.pagination,
            self.first_request(),
            resume=self.resume,
            page_size=self.page_size,
            base_url=fill(self.connection.base_url, self.connection.values),
            private_params=frozenset(private),
        )
        request: PageRequest | None = paginator.first_request()
        while request is not None:
            response = self._call(request)
            raw = self._raw_records(response)
            records = self._normalised(raw, response.body)
            kept, max_cursor = self._incremental(records)
            request = paginator.next_request(response, len(raw))
            yield Page(kept, paginator.state, max_cursor, len(raw))

    def _call(self, request: PageRequest) -> GatewayResponse:
        return self.gateway.call(
            self.connection,
            self.stream.method,
            request.path,
            params=request.params,
            headers=dict(self.stream.headers),
            json_body=request.json_body,
            context=self.context,
        )

    def _raw_records(self, response: GatewayResponse) -> list[Any]:
        """The list at the record path; a path that leads elsewhere says what is there."""
        body, path = response.body, self.stream.record_path
        found = value_at(body, path)
        if isinstance(found, list):
            return found
        if found is None:
            return []  # an explicit null: no records on this page
        if found is MISSING and _empty_answer(deepest_container(body, path)):
            return []  # Google's APIs leave out an empty list altogether
        if isinstance(body, dict):
            has = ", ".join(body) or "nothing (an empty object)"
        elif isinstance(body, list):
            has = "a list (set the record path to an empty value)"
        else:
            has = f"a {type(body).__name__}"
        where = f"'{path}'" if path else "'' (the whole answer)"
        what = "records not found at" if found is MISSING else "no list of records at"
        raise UnexpectedShape(
            f"{self._name}: {what} {where}; the answer has: {has}.",
            fix="Correct the stream's record_path in the connector template.",
            status=response.status,
        )

    def _normalised(self, raw: list[Any], body: Any) -> list[dict[str, Any]]:
        row_format = self.stream.row_format
        if row_format == "ga4_report":
            return ga4_rows(raw, body)
        if row_format == "bigquery_rows":
            fields = self._bigquery_schema()
            return [bigquery_row(row, fields) for row in raw]
        strays = [r for r in raw if not isinstance(r, dict)]
        if strays:
            raise UnexpectedShape(
                f"{self._name}: the list at '{self.stream.record_path}' holds "
                f"{type(strays[0]).__name__} values, not records (objects).",
                fix="Point the stream's record_path at the list of objects.",
            )
        return raw

    def _bigquery_schema(self) -> list[dict[str, Any]]:
        """The table's columns, from ``tables.get`` (the row list's path without ``/data``)."""
        if self._schema is None:
            path = self.stream.path.rstrip("/")
            if not path.endswith("/data"):
                raise ConfigurationError(
                    f"{self._name}: bigquery_rows needs a tabledata.list path ending in "
                    f"/data; this stream reads {self.stream.path}.",
                    fix="Point the stream at .../tables/{table_id}/data.",
                )
            response = self.gateway.call(
                self.connection,
                "GET",
                path.removesuffix("/data"),
                headers=dict(self.stream.headers),
                context=self.context,
            )
            fields = value_at(response.body, "schema.fields")
            if not isinstance(fields, list):
                raise UnexpectedShape(
                    f"{self._name}: the table's description has no schema.fields.",
                    fix="Check the project, dataset and table of the connector.",
                    status=response.status,
                )
            self._schema = fields
        return self._schema

    def _incremental(
        self, records: list[dict[str, Any]]
    ) -> tuple[list[dict[str, Any]], str | None]:
        """The records newer than the threshold (when the vendor could not filter), and the
        page's largest cursor."""
        incremental: Incremental | None = self.stream.incremental
        if incremental is None:
            return records, None
        skip_old = self.threshold is not None and not incremental.param
        kept, latest = [], None
        for record in records:
            moment = self._cursor_of(record, incremental)
            latest = moment if latest is None or moment > latest else latest
            if skip_old and moment <= self.threshold:  # type: ignore[operator]
                continue
            kept.append(record)
        return kept, format_cursor(latest, incremental.format) if latest else None

    def _cursor_of(self, record: dict[str, Any], incremental: Incremental) -> datetime:
        value = value_at(record, incremental.cursor_field)
        if value is MISSING or value is None or value == "":
            raise UnexpectedShape(
                f"{self._name}: cursor field '{incremental.cursor_field}' missing from "
                "records; check the stream's incremental settings.",
                fix="Set incremental.cursor_field to a field every record carries (and that "
                "the stream's params ask for).",
            )
        moment = parse_cursor(value, incremental.format)
        if moment is None:
            raise UnexpectedShape(
                f"{self._name}: cursor field '{incremental.cursor_field}' holds {value!r}, "
                f"which is not a time.",
                fix="Check the stream's incremental cursor_field and format.",
            )
        return moment


def _empty_answer(container: Any) -> bool:
    """An object holding no list of records anywhere: the vendor had nothing to list."""
    if not isinstance(container, dict):
        return False
    return not any(
        isinstance(v, list) and k not in _REPORT_METADATA and not k.startswith("_")
        for k, v in container.items()
    )
