"""Field lineage: where a field comes from and where it goes.

Starting from one dictionary field (a system and a name), the field mappings of the flows
are followed both ways: upstream, the flows that write the field into its system (and what
feeds them), downstream, the flows that read it out (and where they take it). A mapping
names a field by its path in the record (``properties.email``); the last part of the path
is the field's name.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from sqlmodel import col, select

from core.dictionary import path_matches
from core.errors import NotFound
from core.integration_map import dot_quote
from core.integrations import FREQUENCIES, METHODS
from core.permissions import Action, Actor, require
from core.workspace import Workspace
from db.dictionary import DictionaryField
from db.engine import read_session
from db.models import FieldMapping, Integration, System

MAX_HOPS = 12


def leaf(path: str) -> str:
    """``properties.email`` → ``email``."""
    return path.strip().rsplit(".", 1)[-1]


@dataclass(frozen=True)
class Hop:
    """One flow carrying the field from one system to the next."""

    flow: str
    source: str
    source_field: str
    destination: str
    destination_field: str
    frequency: str
    method: str
    # upstream (towards where it comes from) or downstream (where it goes)
    direction: str


@dataclass
class Lineage:
    system: str
    name: str
    data_type: str
    # systems whose dictionary has a field of this name, with its type
    holders: list[tuple[str, str]] = field(default_factory=list)
    hops: list[Hop] = field(default_factory=list)

    @property
    def systems(self) -> list[str]:
        """Every system the field is in: the dictionary's and the flows' (in order met)."""
        seen = [self.system]
        for name, _ in self.holders:
            seen.append(name)
        for h in self.hops:
            seen += [h.source, h.destination]
        return list(dict.fromkeys(seen))


def field_lineage(ws: Workspace, actor: Actor, field_id: int) -> Lineage:
    """The lineage of one dictionary field, following mappings up to ``MAX_HOPS`` away."""
    require(actor, Action.VIEW_DICTIONARY)
    with read_session(ws.engine) as session:
        start = session.get(DictionaryField, field_id)
        if start is None:
            raise NotFound(f"Dictionary field #{field_id} no longer exists.")
        systems = {s.id: s.name for s in session.exec(select(System))}
        mapped = session.exec(
            select(Integration, FieldMapping).join(
                FieldMapping, col(FieldMapping.integration_id) == col(Integration.id)
            )
        ).all()
        holders = session.exec(select(DictionaryField)).all()
    lineage = Lineage(systems.get(start.system_id, "?"), start.name, start.data_type)
    lineage.holders = sorted(
        (systems.get(h.system_id, "?"), h.data_type)
        for h in holders
        if h.name.casefold() == start.name.casefold() and h.id != start.id
    )

    def hop(flow: Integration, mapping: FieldMapping, direction: str) -> Hop:
        return Hop(
            flow=flow.name,
            source=systems.get(flow.source_system_id, "?"),
            source_field=leaf(mapping.source_field),
            destination=systems.get(flow.destination_system_id, "?"),
            destination_field=leaf(mapping.destination_field),
            frequency=FREQUENCIES.get(flow.frequency, flow.frequency),
            method=METHODS.get(flow.method, flow.method),
            direction=direction,
        )

    seen_hops: set[tuple[int, int]] = set()
    for direction in ("upstream", "downstream"):
        visited = {(start.system_id, start.name.casefold())}
        queue = deque([(start.system_id, start.name, 0)])
        while queue:
            system_id, name, depth = queue.popleft()
            if depth >= MAX_HOPS:
                continue
            for flow, mapping in mapped:
                if direction == "downstream":
                    here = flow.source_system_id == system_id and path_matches(
                        mapping.source_field, name
                    )
                    nxt = (flow.destination_system_id, leaf(mapping.destination_field))
                else:
                    here = flow.destination_system_id == system_id and path_matches(
                        mapping.destination_field, name
                    )
                    nxt = (flow.source_system_id, leaf(mapping.source_field))
                if not here or (flow.id, mapping.id) in seen_hops:
                    continue
                seen_hops.add((flow.id, mapping.id))
                lineage.hops.append(hop(flow, mapping, direction))
                key = (nxt[0], nxt[1].casefold())
                if key not in visited:
                    visited.add(key)
                    queue.append((nxt[0], nxt[1], depth + 1))
    return lineage


def lineage_rows(lineage: Lineage) -> list[dict[str, str]]:
    """The lineage as a table: one row per flow that carries the field."""
    return [
        {
            "Direction": "comes from" if h.direction == "upstream" else "goes to",
            "From": f"{h.source}.{h.source_field}",
            "To": f"{h.destination}.{h.destination_field}",
            "Flow": h.flow,
            "Frequency": h.frequency,
            "Method": h.method,
        }
        for h in lineage.hops
    ]


def lineage_dot(lineage: Lineage) -> str:
    """A small left-to-right graph: one node per system.field, one edge per flow."""
    nodes: dict[str, str] = {}

    def node(system: str, name: str) -> str:
        key = f"{system}.{name}".casefold()
        if key not in nodes:
            nodes[key] = f"n{len(nodes)}"
        return nodes[key]

    start = node(lineage.system, lineage.name)
    edges = []
    for h in lineage.hops:
        label = dot_quote(f"{h.flow}\n{h.frequency} · {h.method}")
        edges.append(
            f"  {node(h.source, h.source_field)} -> {node(h.destination, h.destination_field)} "
            f"[label={label}];"
        )
    for system, _type in lineage.holders:
        node(system, lineage.name)
    labels = {}
    for h in lineage.hops:
        labels[node(h.source, h.source_field)] = (h.source, h.source_field)
        labels[node(h.destination, h.destination_field)] = (h.destination, h.destination_field)
    for system, _type in lineage.holders:
        labels[node(system, lineage.name)] = (system, lineage.name)
    labels[start] = (lineage.system, lineage.name)
    lines = [
        f"digraph {dot_quote('Lineage of ' + lineage.name)} {{",
        '  graph [rankdir=LR, fontname="Helvetica", nodesep=0.4, ranksep=0.9];',
        '  node [shape=box, style="rounded,filled", fillcolor="#f3f4f6", fontname="Helvetica", '
        "fontsize=11];",
        '  edge [fontname="Helvetica", fontsize=9, color="#4b5563"];',
    ]
    for node_id, (system, name) in labels.items():
        extra = ', fillcolor="#dbeafe", penwidth=2' if node_id == start else ""
        label = dot_quote(f"{system}\n{name}")
        lines.append(f"  {node_id} [label={label}{extra}];")
    lines += edges
    lines.append("}")
    return "\n".join(lines) + "\n"
