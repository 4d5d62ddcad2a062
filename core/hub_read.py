"""Reading the hub's records for people: plain and sealed fields together, masked per
person, every unmasked view or export written to the access log.

The hub keeps a record's personal-data fields sealed (see ``core.sync.hub``); only here,
and only for a person, are they opened. Someone without the PII permission of a field's
domain sees ``j•••@example.com`` instead of the value, on the page and in the CSV export.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import col, select

from core.dictionary_csv import neutralise
from core.errors import InputError
from core.permissions import Action, Actor, require
from core.pii import open_values, reveal
from core.vault import Vault
from core.workspace import Workspace
from db.engine import read_session
from db.models import HubRecord

PLACE = "Hub records"
EXPORT_PLACE = "Hub records CSV export"
SEARCH_MAX = 200
PAGE_LIMIT = 200
EXPORT_LIMIT = 50_000


@dataclass(frozen=True)
class FieldSource:
    """Where a record's field got its current value: the source and its own time."""

    source: str
    modified_at: datetime | None
    # the domain whose personal data it is, or "" for an ordinary field
    pii_domain: str = ""


@dataclass(frozen=True)
class HubRecordView:
    """One hub record as the person reading it may see it."""

    key: str
    fields: dict[str, Any]
    sources: dict[str, FieldSource]
    updated_at: datetime


@dataclass(frozen=True)
class HubListing:
    """Records of one entity, and which of their fields are personal data."""

    entity: str
    records: list[HubRecordView]
    # PII field → its domain
    personal: dict[str, str]
    # the PII fields this person sees masked
    masked: list[str]
    # more records matched than are listed
    truncated: bool

    @property
    def field_names(self) -> list[str]:
        return sorted({name for r in self.records for name in r.fields})


def merged_fields(vault: Vault, row: HubRecord) -> dict[str, Any]:
    """A record's values: its plain fields with its sealed fields opened. Never hand the
    result to a page without masking it (``reveal``)."""
    values = json.loads(row.fields_json)
    values.update(
        open_values(
            vault, row.entity, row.external_key, row.pii_nonce, row.pii_ciphertext, row.pii_key_id
        )
    )
    return values


def personal_fields(provenance: dict[str, dict]) -> dict[str, str]:
    """The fields the hub keeps as personal data (name → domain), from the provenance."""
    return {name: held["pii"] for name, held in provenance.items() if held.get("pii")}


def cell_text(value: Any) -> str:
    """A value as one table cell: nested objects and lists as JSON."""
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, default=str, ensure_ascii=False)
    return str(value)


def _source(held: dict) -> FieldSource:
    stamp = held.get("modified_at")
    return FieldSource(
        held.get("source", ""),
        datetime.fromisoformat(stamp) if stamp else None,
        held.get("pii", ""),
    )


def hub_entities(ws: Workspace, actor: Actor) -> list[str]:
    """The entities the hub holds records of (``contact``, ``deal``, ...)."""
    require(actor, Action.VIEW_REGISTRY)
    with read_session(ws.engine) as session:
        return sorted(session.exec(select(HubRecord.entity).distinct()).all())


def _search_text(search: str) -> str:
    text = (search or "").strip()
    if len(text) > SEARCH_MAX:
        raise InputError.one(
            "Search by key", f"is longer than {SEARCH_MAX} characters; type part of the key."
        )
    return text


def _read(
    ws: Workspace, actor: Actor, entity: str, search: str, limit: int
) -> tuple[list[HubRecordView], dict[str, str], bool]:
    """The matching records opened (not yet masked), their PII fields, and whether more
    matched than ``limit``."""
    require(actor, Action.VIEW_REGISTRY)
    text = _search_text(search)
    with read_session(ws.engine) as session:
        statement = select(HubRecord).where(HubRecord.entity == entity)
        if session.exec(select(HubRecord.id).where(HubRecord.entity == entity)).first() is None:
            known = ", ".join(sorted(session.exec(select(HubRecord.entity).distinct()))) or "none"
            raise InputError.one(
                "Entity", f"'{entity}' has no records in the hub; pick one of: {known}."
            )
        if text:
            statement = statement.where(
                col(HubRecord.external_key).icontains(text, autoescape=True)
            )
        rows = session.exec(statement.order_by(col(HubRecord.external_key)).limit(limit + 1)).all()
    records, personal = [], {}
    for row in rows[:limit]:
        provenance = json.loads(row.provenance_json)
        personal.update(personal_fields(provenance))
        sources = {name: _source(held) for name, held in provenance.items()}
        records.append(
            HubRecordView(row.external_key, merged_fields(ws.vault, row), sources, row.updated_at)
        )
    return records, personal, len(rows) > limit


def list_records(
    ws: Workspace, actor: Actor, entity: str, search: str = "", limit: int = PAGE_LIMIT
) -> HubListing:
    """The records of ``entity`` whose key contains ``search``, masked for ``actor``.

    Shown unmasked, they are written to the access log (field names and a count)."""
    records, personal, truncated = _read(ws, actor, entity, search, limit)
    shown = reveal(
        ws, actor, place=PLACE, entity=entity, rows=[r.fields for r in records], pii=personal
    )
    return HubListing(
        entity=entity,
        records=[
            HubRecordView(r.key, values, r.sources, r.updated_at)
            for r, values in zip(records, shown, strict=True)
        ],
        personal=personal,
        masked=sorted(n for n, d in personal.items() if not actor.may(Action.VIEW_PII, d)),
        truncated=truncated,
    )


def export_csv(ws: Workspace, actor: Actor, entity: str, search: str = "") -> bytes:
    """The records of ``entity`` whose key contains ``search`` as a CSV file, masked the
    same way as on the page; an unmasked export is logged as kind ``export``."""
    records, personal, _ = _read(ws, actor, entity, search, EXPORT_LIMIT)
    shown = reveal(
        ws,
        actor,
        place=EXPORT_PLACE,
        entity=entity,
        rows=[r.fields for r in records],
        pii=personal,
        kind="export",
    )
    names = sorted({name for values in shown for name in values})
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["key", *names])
    for record, values in zip(records, shown, strict=True):
        writer.writerow(
            [neutralise(record.key), *(neutralise(cell_text(values.get(n))) for n in names)]
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")
