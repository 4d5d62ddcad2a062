"""Where a person is held: their records in the hub, the systems that hold them, and the
connectors that can delete them at the vendor.

A record's systems are the sources that wrote its fields (its provenance) and the
destinations of the flows that carry those sources' records of its entity on. A system is
reached for deletion through its connectors, and through the connectors of those flows,
when the connector's template declares a delete endpoint that finds a person by e-mail
(HubSpot's GDPR delete, Mailchimp's permanent delete).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from core.connectors.catalog import Catalog
from core.connectors.template import ConnectorTemplate, Stream, WriteEndpoint
from core.errors import SwitchboardError
from core.pii import named_like_email
from core.webhooks import webhook_entity
from db.models import Connector, HubRecord, Integration, IntegrationRun, System


@dataclass(frozen=True)
class DeletionTarget:
    """A connector a deletion is sent through, and the system it reaches."""

    connector_id: int
    connector: str
    system: str


@dataclass
class Located:
    """A person's hub records, the systems holding each, and where to send deletions."""

    rows: list[HubRecord] = field(default_factory=list)
    # hub record id → the names of the systems that hold it
    systems: dict[int, list[str]] = field(default_factory=dict)
    targets: list[DeletionTarget] = field(default_factory=list)


def deletion_endpoint(template: ConnectorTemplate) -> tuple[Stream, WriteEndpoint] | None:
    """The template's delete write that finds a person by e-mail, if it declares one (a
    contact stream's first)."""
    found = [
        (stream, write)
        for stream in template.streams
        for write in stream.writes
        if write.mode == "delete" and write.match_field and named_like_email(write.match_field)
    ]
    found.sort(key=lambda pair: pair[0].entity != "contact")
    return found[0] if found else None


def _flow_entity(flow: Integration, connectors: dict[int, Connector], catalog: Catalog) -> str:
    """The hub entity a flow lands ("" when its source cannot be read)."""
    if flow.method == "webhook":
        return webhook_entity(flow)
    connector = connectors.get(flow.source_connector_id or -1)
    if connector is None:
        return ""
    try:
        template = catalog.get(connector.template_id)
    except SwitchboardError:
        return ""
    return next((s.entity for s in template.streams if s.name == flow.source_stream), "")


def _deletes(connector: Connector, catalog: Catalog) -> bool:
    try:
        return deletion_endpoint(catalog.get(connector.template_id)) is not None
    except SwitchboardError:
        return False


def domains_of(session: Session, located: Located) -> set[str]:
    """The domains a deletion reaches into: each record's (the domain of the flow whose run
    last wrote it, Marketing when none did) and each target connector's."""
    run_ids = {row.last_run_id for row in located.rows if row.last_run_id is not None}
    owners = (
        dict(
            session.exec(
                select(IntegrationRun.id, Integration.domain)
                .join(Integration, col(Integration.id) == col(IntegrationRun.integration_id))
                .where(col(IntegrationRun.id).in_(run_ids))
            ).all()
        )
        if run_ids
        else {}
    )
    domains = {owners.get(row.last_run_id, "Marketing") for row in located.rows}
    targets = {t.connector_id for t in located.targets}
    if targets:
        domains |= set(session.exec(select(Connector.domain).where(col(Connector.id).in_(targets))))
    return domains


def locate(session: Session, digest: str, catalog: Catalog) -> Located:
    """Everything the store knows about where the person with this e-mail digest is held."""
    located = Located(
        rows=list(
            session.exec(
                select(HubRecord)
                .where(HubRecord.email_digest == digest)
                .order_by(HubRecord.entity, HubRecord.external_key)
            )
        )
    )
    if not located.rows:
        return located
    systems = {s.id: s.name for s in session.exec(select(System))}
    connectors = {c.id: c for c in session.exec(select(Connector))}
    flows = [(f, _flow_entity(f, connectors, catalog)) for f in session.exec(select(Integration))]
    reached: set[int] = set()
    holding: set[str] = set()
    for row in located.rows:
        sources = {
            p.get("source") for p in json.loads(row.provenance_json).values() if p.get("source")
        }
        names = set(sources)
        for flow, entity in flows:
            if entity == row.entity and systems.get(flow.source_system_id) in sources:
                names.add(systems.get(flow.destination_system_id, ""))
                reached.update(
                    c for c in (flow.source_connector_id, flow.destination_connector_id) if c
                )
        names.discard("")
        located.systems[row.id] = sorted(names)
        holding |= names
    reached.update(c.id for c in connectors.values() if systems.get(c.system_id) in holding)
    located.targets = [
        DeletionTarget(c.id, c.name, systems.get(c.system_id, "") or c.name)
        for c in sorted((connectors[i] for i in reached if i in connectors), key=lambda c: c.name)
        if _deletes(c, catalog)
    ]
    return located
