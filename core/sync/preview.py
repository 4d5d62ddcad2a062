"""Preview: the first records of a flow as they would land, and what would change in the hub.

Makes real requests (first page only) and writes nothing.
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
from core.integrations import IntegrationInput, mapping_problems
from core.permissions import Action, Actor, require
from core.sync.mapping import apply_mapping
from core.workspace import Workspace
from db.engine import read_session
from db.models import HubRecord


@dataclass(frozen=True)
class PreviewRow:
    key: str
    # new | changed | unchanged
    change: str
    changed_fields: list[str]
    fields: dict


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
    require(actor, Action.MANAGE_INTEGRATIONS)
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
    with read_session(ws.engine) as session:
        held = {
            row.external_key: json.loads(row.fields_json)
            for row in session.exec(
                select(HubRecord).where(
                    HubRecord.entity == stream.entity,
                    col(HubRecord.external_key).in_([k for k, _ in keyed]),
                )
            )
        }
    rows = []
    for key, fields in keyed:
        current = held.get(key)
        if current is None:
            rows.append(PreviewRow(key, "new", sorted(fields), fields))
            continue
        changed = sorted(name for name, value in fields.items() if current.get(name) != value)
        rows.append(PreviewRow(key, "changed" if changed else "unchanged", changed, fields))
    return rows
