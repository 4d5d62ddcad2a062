"""Writing records to a stream: batched, with each refused record kept with its reason.

    result = StreamWriter(gateway, connection, stream, "upsert").write(records)
    result.written, result.rejected   # 98, [("ann@example", "Email address ... is invalid")]

The stream's ``writes`` entry for the mode says where and how: records go in batches of
``batch_size``, each batch's body built from ``body_template`` (see ``records.py`` for the
placeholders), one request per batch. The vendor's answer decides each record's fate:

- HubSpot batch answers (200/207 multi-status) list failures under ``errors``, each naming
  the inputs' ids in ``context.ids``: those records are rejected, the rest were written.
- BigQuery's ``insertAll`` answers 200 and lists failed rows in ``insertErrors[index]``.
  Rows only marked ``stopped`` (held back because another row was invalid) were not
  looked at; they are sent once more on their own.
- A whole-request refusal about the data (400, 409 conflict, 422) rejects every record of
  that batch with the vendor's words and the writer goes on with the next batch; one-record
  calls (Mailchimp's problem details) are per-record by construction. A 404 on a path that
  names the record (``/members/{subscriber_hash}``) rejects that record as unknown.
- Every other failure (credentials, permissions, the vendor down after the gateway's
  retries) stops the write: it is not about one record.

A rejection's key is the record's ``match_field`` value, else its primary key, else
``#i`` — its position in the list given to ``write``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote

from core.connectors.reader import record_key
from core.connectors.records import (
    MISSING,
    RecordSlots,
    fill_batch,
    slots_named,
    subscriber_hash,
    value_at,
)
from core.connectors.registry import Connection
from core.connectors.template import Stream, WriteEndpoint
from core.errors import BadRequest, ConnectorError, EndpointNotFound, InputError
from core.gateway import CallContext, Gateway, GatewayResponse

WriteMode = Literal["upsert", "update", "create", "delete"]

# statuses by which a vendor refuses the data sent, not the connection
DATA_REFUSALS = frozenset({400, 409, 422})
_VENDOR_SAID = re.compile(r"The vendor said: “(.*)”\.")


@dataclass(frozen=True)
class WriteResult:
    """What became of the records given to ``StreamWriter.write``."""

    written: int
    # (key, reason) per refused record
    rejected: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class _Item:
    """One record on its way: its position in the caller's list, label and slots."""

    index: int
    label: str
    slots: RecordSlots


class StreamWriter:
    """Writes records to one stream of a connection in one write mode."""

    def __init__(
        self,
        gateway: Gateway,
        connection: Connection,
        stream: Stream,
        mode: WriteMode,
        *,
        context: CallContext | None = None,
    ) -> None:
        self.gateway = gateway
        self.connection = connection
        self.stream = stream
        self.mode = mode
        self.context = context
        self.endpoint = self._endpoint(mode)
        # the record placeholders the write uses, in its path and its body
        self._slots = slots_named(self.endpoint.path) | slots_named(self.endpoint.body_template)
        # the vendor's id is no property (HubSpot refuses an "id" property) unless the
        # template itself names it as data ({record.id}, as BigQuery's insertId does)
        self._drop_key = f"record.{stream.primary_key}" not in self._slots
        # a path naming the record means one request per record
        self._path_names_record = bool(slots_named(self.endpoint.path))

    def _endpoint(self, mode: str) -> WriteEndpoint:
        offered = [w.mode for w in self.stream.writes]
        for endpoint in self.stream.writes:
            if endpoint.mode == mode:
                return endpoint
        where = f"{self.connection.template.name}'s {self.stream.name} stream"
        if not offered:
            raise InputError.one("Write mode", f"{where} cannot be written to; it is read only.")
        raise InputError.one(
            "Write mode", f"{where} cannot {mode}; it offers only: {', '.join(offered)}."
        )

    # -- the write ----------------------------------------------------------------------

    def write(self, records: list[dict[str, Any]]) -> WriteResult:
        """Send ``records`` in batches; the records the vendor refused come back with why."""
        rejected: list[tuple[str, str]] = []
        ready: list[_Item] = []
        for index, record in enumerate(records):
            item, problem = self._prepare(index, record)
            if problem:
                rejected.append((item.label, problem))
            else:
                ready.append(item)
        size = 1 if self._path_names_record else self.endpoint.batch_size
        written = 0
        for start in range(0, len(ready), size):
            done, refused = self._send(ready[start : start + size])
            written += done
            rejected += refused
        return WriteResult(written, rejected)

    def _prepare(self, index: int, record: dict[str, Any]) -> tuple[_Item, str]:
        """The record's placeholder values, or why it cannot be sent at all."""
        match_field = self.endpoint.match_field
        match = value_at(record, match_field) if match_field else MISSING
        key = record_key(self.stream, record) or None
        label = _text(match) or key or f"#{index}"
        whole = dict(record)
        if self._drop_key:
            whole.pop(self.stream.primary_key, None)
        slots = RecordSlots(
            fields=record,
            whole=whole,
            key=key,
            subscriber_hash=subscriber_hash(_text(match)) if _text(match) else None,
        )
        item = _Item(index, label, slots)
        if "key" in self._slots and key is None:
            return item, (
                f"has no {self.stream.primary_key} (its id at {self.connection.template.name}); "
                "read it from the vendor first, or write it with upsert."
            )
        if "subscriber_hash" in self._slots and not _text(match):
            return item, f"has no {match_field}, which identifies it at the vendor."
        return item, ""

    def _send(
        self, batch: list[_Item], *, resent: bool = False
    ) -> tuple[int, list[tuple[str, str]]]:
        """One request for ``batch``: (records written, records refused with reasons).

        ``resent`` marks BigQuery rows sent again after being held back: they go once only.
        """
        values = self.connection.values
        slots = [item.slots for item in batch]
        path = self.endpoint.path
        if self._path_names_record:
            path = _fill_path(path, slots[0], values)
        if self.endpoint.body_template is not None:
            filled = fill_batch(self.endpoint.body_template, slots, values)
            body, items = filled.body, filled.items
        elif self.mode == "delete":
            body, items = None, None
        else:
            body = batch[0].slots.whole if len(batch) == 1 else [i.slots.whole for i in batch]
            items = None
        try:
            response = self._call(path, body)
        except ConnectorError as exc:
            reason = refusal_reason(exc)
            if exc.status in DATA_REFUSALS or isinstance(exc, BadRequest):
                return 0, [(item.label, reason) for item in batch]
            if (
                isinstance(exc, EndpointNotFound)
                and self._path_names_record
                and self.mode in ("update", "delete")
            ):
                return 0, [(batch[0].label, f"not found at the vendor. {reason}".strip())]
            raise
        if isinstance(response.body, dict) and response.body.get("insertErrors"):
            return self._after_insert_errors(batch, response, resent=resent)
        refused = batch_refusals(response.body, batch, items)
        written = len(batch) - len({item.index for item, _ in refused if item is not None})
        results = value_at(response.body, "results")
        if refused and isinstance(results, list):
            written = len(results)  # the answer's own count, when an error named no record
        return written, [(item.label if item else "", reason) for item, reason in refused]

    def _call(self, path: str, body: Any) -> GatewayResponse:
        return self.gateway.call(
            self.connection,
            self.endpoint.method,
            path,
            json_body=body,
            context=self.context,
        )

    def _after_insert_errors(
        self, batch: list[_Item], response: GatewayResponse, *, resent: bool
    ) -> tuple[int, list[tuple[str, str]]]:
        """BigQuery: reject the invalid rows, send the rows it only held back once more."""
        invalid, stopped = insert_errors(response.body)
        refused = [(batch[i].label, reason) for i, reason in invalid.items() if i < len(batch)]
        held = [batch[i] for i in sorted(stopped) if i < len(batch) and i not in invalid]
        written = len(batch) - len(refused) - len(held)
        if held and (resent or not invalid):
            # held back with no invalid row to blame: nothing sending again would change
            refused += [
                (item.label, "not inserted: the vendor stopped the request") for item in held
            ]
        elif held:
            # not a retry: the vendor did not look at these rows, only at the invalid ones
            again = self._send(held, resent=True)
            written += again[0]
            refused += again[1]
        return written, refused


def _text(value: Any) -> str:
    if value is MISSING or value is None or isinstance(value, dict | list):
        return ""
    return str(value)


def _fill_path(path: str, slots: RecordSlots, values: dict[str, str]) -> str:
    """The path with the record's placeholders filled and URL-encoded (form fields stay
    for the gateway to fill)."""

    def one(match: re.Match[str]) -> str:
        found = slots.value(match.group(1))
        return quote(_text(found), safe="")

    return re.sub(r"\{(record(?:\.[^{}\s]+)?|key|subscriber_hash)\}", one, path)


# --- reading the vendor's verdicts -------------------------------------------------------


def refusal_reason(error: ConnectorError) -> str:
    """The vendor's own words from a failed call (the gateway quotes them), else the
    whole message. A Mailchimp problem document's field errors are added when present."""
    body = getattr(error, "body", None)
    if isinstance(body, dict) and "title" in body and "detail" in body:
        fields = "; ".join(
            f"{e.get('field')}: {e.get('message')}"
            for e in body.get("errors") or []
            if isinstance(e, dict)
        )
        return f"{body['title']}: {body['detail']}" + (f" ({fields})" if fields else "")
    said = _VENDOR_SAID.search(error.message)
    return said.group(1) if said else error.message


def batch_refusals(
    body: Any, batch: list[_Item], items: list[Any] | None
) -> list[tuple[_Item | None, str]]:
    """Errors listed in a batch answer, ``errors[].context.ids`` naming the inputs' ``id``
    values (HubSpot's 200/207 batch answers)."""
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list) or not errors:
        return []
    by_id: dict[str, _Item] = {}
    for item, sent in zip(batch, items or [], strict=False):
        sent_id = sent.get("id") if isinstance(sent, dict) else None
        if sent_id is not None:
            by_id[str(sent_id).lower()] = item
    refused: list[tuple[_Item | None, str]] = []
    for error in errors:
        if not isinstance(error, dict):
            continue
        reason = str(error.get("message") or error.get("category") or "refused")
        if error.get("category"):
            reason = f"{error['category']}: {reason}"
        ids = value_at(error, "context.ids")
        matched = [by_id[str(i).lower()] for i in ids or [] if str(i).lower() in by_id]
        if matched:
            refused += [(item, reason) for item in matched]
        elif len(batch) == 1:
            refused.append((batch[0], reason))
        else:
            refused.append((None, f"{reason} (the vendor did not say which record)"))
    return refused


def insert_errors(body: dict[str, Any]) -> tuple[dict[int, str], set[int]]:
    """BigQuery ``insertErrors``: (row index → reason for invalid rows, indexes only held back)."""
    invalid: dict[int, str] = {}
    stopped: set[int] = set()
    for entry in body.get("insertErrors") or []:
        index = entry.get("index")
        if not isinstance(index, int):
            continue
        problems = [e for e in entry.get("errors") or [] if e.get("reason") != "stopped"]
        if problems:
            invalid[index] = "; ".join(
                f"{e.get('location')}: {e.get('message')}"
                if e.get("location")
                else str(e.get("message") or e.get("reason"))
                for e in problems
            )
        else:
            stopped.add(index)
    return invalid, stopped
