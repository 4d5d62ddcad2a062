"""Preview: the first records of a flow as they would land, and what would change in the hub.

Makes real requests (first page only) and writes nothing but the access log: personal data
(the destination dictionary's PII fields, and fields the hub keeps sealed) is shown masked
unless the person may see it in its domain, and an unmasked preview is logged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlmodel import col, select

from core.connectors.catalog import Catalog, default_catalog
from core.connectors.reader import StreamReader, record_key
from core.connectors.registry import load_connection
from core.errors import InputError
from core.gateway import Gateway
from core.hub_read import merged_fields, personal_fields
from core.integrations import IntegrationInput, mapping_problems
from core.permissions import Action, Actor, require
from core.pii import pii_fields_for, reveal
from core.sync.mapping import apply_mapping
from core.workspace import Workspace
from db.engine import read_session
from db.models import HubRecord

PLACE = "Integration preview"


@dataclass(frozen=True)
class PreviewRow:
    key: str
    # new | changed | unchanged
    change: str
    changed_fields: list[str]
    # the mapped values, personal data masked for the person previewing
    fields: dict


def _held(
    ws: Workspace, data: IntegrationInput, entity: str, keyed: list[tuple[str, dict]]
) -> tuple[dict[str, dict], dict[str, str]]:
    """The hub's values of the previewed keys (sealed fields opened, to compare), and the
    personal-data fields (name → domain) among them and among the mapped fields."""
    with read_session(ws.engine) as session:
        dictionary = pii_fields_for(session, data.destination_system_id)
        held, personal = {}, {}
        for row in session.exec(
            select(HubRecord).where(
                HubRecord.entity == entity,
                col(HubRecord.external_key).in_([k for k, _ in keyed]),
            )
        ):
            held[row.external_key] = merged_fields(ws.vault, row)
            personal.update(personal_fields(json.loads(row.provenance_json)))
    for _, fields in keyed:
        personal.update({n: dictionary.domain_of(n) for n in fields if dictionary.domain_of(n)})
    return held, personal


def preview_flow(
    ws: Workspace,
    actor: Actor,
    gateway: Gateway,
    data: IntegrationInput,
    mappings: list[tuple[str, str]],
    limit: int = 20,
    catalog: Catalog | None = None,
) -> list[PreviewRow]:
    """Read the first page of the source stream, map it, and compare it with the hub."""
    require(actor, Action.MANAGE_INTEGRATIONS, data.domain)
    problems = mapping_problems(mappings)
    if data.source_connector_id is None:
        raise InputError.one("Source connector", "pick one to preview its records.")
    if problems:
        raise InputError(problems)
    connection = load_connection(ws, data.source_connector_id, catalog or default_catalog())
    stream = next((s for s in connection.template.streams if s.name == data.source_stream), None)
    if stream is None:
        raise InputError.one("Source stream", "pick one of the connector's streams.")
    cleaned = [(s.strip(), d.strip()) for s, d in mappings if s.strip() and d.strip()]
    page = next(iter(StreamReader(gateway, connection, stream).pages()), None)
    records = page.records[:limit] if page else []
    keyed = [(record_key(stream, raw), apply_mapping(raw, cleaned)) for raw in records]
    held, personal = _held(ws, data, stream.entity, keyed)
    shown = reveal(
        ws,
        actor,
        place=PLACE,
        entity=stream.entity,
        rows=[fields for _, fields in keyed],
        pii=personal,
    )
    rows = []
    for (key, fields), visible in zip(keyed, shown, strict=True):
        current = held.get(key)
        if current is None:
            rows.append(PreviewRow(key, "new", sorted(fields), visible))
            continue
        changed = sorted(name for name, value in fields.items() if current.get(name) != value)
        rows.append(PreviewRow(key, "changed" if changed else "unchanged", changed, visible))
    return rows
