"""The integration map: drawn from the registry at every view, never by hand.

Systems are nodes (shape and colour by category), grouped in one cluster per domain;
flows are edges labelled with their data, frequency and method and coloured by health.
The drawing is Graphviz DOT text; ``dot`` lays it out (edge labels are placed as part of
the layout, so they never overlap), in the browser or here for SVG/PNG downloads.

Health of a flow, from its last ``HEALTH_WINDOW`` finished runs (succeeded or failed;
queued, running and cancelled runs do not count):

- **no data** (grey): no finished run yet — flows run by others (native, JavaScript)
  stay grey until a health check reports on them;
- **failing** (red): the latest finished run failed, and so did the one before it (or
  it is the only one);
- **degraded** (amber): any other failure among those runs, e.g. one failed run followed
  by a success, or a single failure after successes;
- **healthy** (green): every one of those runs succeeded.
"""

from __future__ import annotations

import csv
import io
import shutil
from collections import defaultdict
from dataclasses import dataclass, field
from enum import StrEnum

import graphviz
from sqlalchemy import func
from sqlmodel import col, select

from core.connectors.registry import DOMAINS
from core.dictionary_csv import neutralise
from core.errors import ConfigurationError
from core.integrations import FREQUENCIES, METHODS
from core.permissions import Action, Actor, require
from core.systems import CATEGORIES
from core.workspace import Workspace
from db.dictionary import DictionaryField
from db.engine import read_session
from db.models import Integration, IntegrationRun, System

HEALTH_WINDOW = 5


class Health(StrEnum):
    HEALTHY = "healthy"
    DEGRADED = "degraded"
    FAILING = "failing"
    NO_DATA = "no data"

    @property
    def colour(self) -> str:
        return HEALTH_COLOURS[self]


HEALTH_COLOURS = {
    Health.HEALTHY: "#2e7d32",
    Health.DEGRADED: "#f59e0b",
    Health.FAILING: "#c62828",
    Health.NO_DATA: "#9e9e9e",
}

# category → (shape, fill colour)
CATEGORY_STYLE = {
    "crm": ("box", "#dbeafe"),
    "map": ("component", "#ede9fe"),
    "analytics": ("ellipse", "#dcfce7"),
    "ads": ("hexagon", "#ffedd5"),
    "warehouse": ("cylinder", "#e0f2fe"),
    "website": ("tab", "#fef9c3"),
    "billing": ("note", "#fce7f3"),
    "other": ("octagon", "#f3f4f6"),
}


def health_of(statuses: list[str]) -> Health:
    """A flow's health from its finished runs' statuses, newest first (see module doc)."""
    finished = [s for s in statuses if s in ("succeeded", "failed")][:HEALTH_WINDOW]
    if not finished:
        return Health.NO_DATA
    if finished[0] == "failed" and (len(finished) == 1 or finished[1] == "failed"):
        return Health.FAILING
    if "failed" in finished:
        return Health.DEGRADED
    return Health.HEALTHY


@dataclass(frozen=True)
class MapSystem:
    id: int
    name: str
    category: str
    domain: str = "Marketing"
    pii_cleared: bool = False


@dataclass(frozen=True)
class MapFlow:
    """A flow as the map draws it; ``frequency`` and ``method`` are the registry's keys."""

    id: int
    name: str
    source_id: int
    destination_id: int
    data: str
    frequency: str
    method: str
    domain: str = "Marketing"
    criticality: str = "medium"
    enabled: bool = True
    health: Health = Health.NO_DATA
    # the mean records read per run over the health window, when runs read any
    records_per_run: float | None = None


@dataclass
class Registry:
    """Everything the map and its analysis need, read in one go."""

    systems: dict[int, MapSystem]
    flows: list[MapFlow]
    # system id → names of its dictionary fields marked critical
    critical_fields: dict[int, list[str]] = field(default_factory=dict)

    def name(self, system_id: int) -> str:
        system = self.systems.get(system_id)
        return system.name if system else "?"


def load_registry(ws: Workspace, actor: Actor) -> Registry:
    """Systems, flows with their health, and critical fields, as they are now."""
    require(actor, Action.VIEW_MAP)
    with read_session(ws.engine) as session:
        systems = {
            s.id: MapSystem(s.id, s.name, s.category, s.domain, s.pii_cleared)
            for s in session.exec(select(System))
        }
        rank = (
            func.row_number()
            .over(
                partition_by=IntegrationRun.integration_id, order_by=col(IntegrationRun.id).desc()
            )
            .label("rank")
        )
        recent = (
            select(
                IntegrationRun.integration_id,
                IntegrationRun.status,
                IntegrationRun.records_read,
                rank,
            )
            .where(col(IntegrationRun.status).in_(("succeeded", "failed")))
            .subquery()
        )
        runs: dict[int, list[tuple[str, int]]] = defaultdict(list)
        newest_first = (
            select(recent.c.integration_id, recent.c.status, recent.c.records_read)
            .where(recent.c.rank <= HEALTH_WINDOW)
            .order_by(recent.c.integration_id, recent.c.rank)
        )
        for integration_id, status, records in session.exec(newest_first):
            runs[integration_id].append((status, records))
        critical: dict[int, list[str]] = defaultdict(list)
        for system_id, name in session.exec(
            select(DictionaryField.system_id, DictionaryField.name).where(
                DictionaryField.critical == True  # noqa: E712
            )
        ):
            critical[system_id].append(name)
        flows = []
        for f in session.exec(select(Integration).order_by(col(Integration.id))):
            history = runs.get(f.id, [])
            records = [r for _, r in history if r]
            flows.append(
                MapFlow(
                    id=f.id,
                    name=f.name,
                    source_id=f.source_system_id,
                    destination_id=f.destination_system_id,
                    data=f.data,
                    frequency=f.frequency,
                    method=f.method,
                    domain=f.domain,
                    criticality=f.criticality,
                    enabled=f.enabled,
                    health=health_of([s for s, _ in history]),
                    records_per_run=sum(records) / len(records) if records else None,
                )
            )
    return Registry(systems, flows, {k: sorted(v) for k, v in critical.items()})


@dataclass(frozen=True)
class MapFilter:
    """What to show; an empty selection shows everything."""

    domains: tuple[str, ...] = ()
    system_ids: tuple[int, ...] = ()
    methods: tuple[str, ...] = ()
    frequencies: tuple[str, ...] = ()


def select_view(registry: Registry, chosen: MapFilter) -> Registry:
    """The part of the registry the filters keep.

    A flow stays when its domain or one of its systems' domains is chosen, it touches a
    chosen system, and its method and frequency are chosen. Systems with no flow left are
    shown only while no method or frequency filter is set (they are part of the picture).
    """

    def keep(f: MapFlow) -> bool:
        ends = (registry.systems.get(f.source_id), registry.systems.get(f.destination_id))
        if chosen.domains and f.domain not in chosen.domains:
            if not any(s and s.domain in chosen.domains for s in ends):
                return False
        if chosen.system_ids and not (
            f.source_id in chosen.system_ids or f.destination_id in chosen.system_ids
        ):
            return False
        if chosen.methods and f.method not in chosen.methods:
            return False
        return not (chosen.frequencies and f.frequency not in chosen.frequencies)

    flows = [f for f in registry.flows if keep(f)]
    shown = {f.source_id for f in flows} | {f.destination_id for f in flows}
    if not (chosen.methods or chosen.frequencies):
        for s in registry.systems.values():
            if (not chosen.domains or s.domain in chosen.domains) and (
                not chosen.system_ids or s.id in chosen.system_ids
            ):
                shown.add(s.id)
    systems = {i: s for i, s in registry.systems.items() if i in shown}
    return Registry(systems, flows, registry.critical_fields)


def dot_quote(text: str) -> str:
    """A DOT double-quoted string; lines joined with Graphviz's centred line break."""
    escaped = str(text).replace("\\", "\\\\").replace('"', '\\"')
    return '"' + "\\n".join(escaped.splitlines() or [""]) + '"'


def flow_label(f: MapFlow) -> str:
    """``Contacts`` / ``Real-time · API``: what an edge says."""
    return (
        f"{f.data}\n{FREQUENCIES.get(f.frequency, f.frequency)} · {METHODS.get(f.method, f.method)}"
    )


def build_dot(registry: Registry, title: str = "Integration map") -> str:
    """The map as DOT text: one cluster per domain, systems styled by category, flows by
    health. Deterministic: the same registry gives the same text."""
    lines = [
        f"digraph {dot_quote(title)} {{",
        "  graph [rankdir=LR, newrank=true, nodesep=0.5, ranksep=1.1, splines=true, "
        'fontname="Helvetica", fontsize=12, pad=0.3, labelloc=t, '
        f"label={dot_quote(title)}];",
        '  node [fontname="Helvetica", fontsize=11, style="filled,rounded", '
        'color="#4b5563", margin="0.15,0.08"];',
        '  edge [fontname="Helvetica", fontsize=9, fontcolor="#374151", arrowsize=0.7];',
    ]
    by_domain: dict[str, list[MapSystem]] = defaultdict(list)
    for s in registry.systems.values():
        by_domain[s.domain].append(s)
    order = [d for d in DOMAINS if d in by_domain] + sorted(set(by_domain) - set(DOMAINS))
    for index, domain in enumerate(order):
        lines.append(f"  subgraph cluster_{index} {{")
        lines.append(
            f'    label={dot_quote(domain)}; style="rounded,dashed"; color="#9ca3af"; '
            'fontcolor="#4b5563";'
        )
        for s in sorted(by_domain[domain], key=lambda s: s.name.casefold()):
            shape, fill = CATEGORY_STYLE.get(s.category, CATEGORY_STYLE["other"])
            kind = CATEGORIES.get(s.category, s.category)
            tooltip = f"{s.name} — {kind}, {s.domain}" + (
                ", cleared for personal data" if s.pii_cleared else ""
            )
            lines.append(
                f"    s{s.id} [label={dot_quote(s.name)}, shape={shape}, fillcolor={dot_quote(fill)}, "
                f"tooltip={dot_quote(tooltip)}];"
            )
        lines.append("  }")
    for f in registry.flows:
        if f.source_id not in registry.systems or f.destination_id not in registry.systems:
            continue
        attrs = [
            f"label={dot_quote(flow_label(f))}",
            f"color={dot_quote(f.health.colour)}",
            f"penwidth={3 if f.criticality in ('high', 'critical') else 1.6}",
            f"tooltip={dot_quote(f'{f.name}: {f.health.value}')}",
        ]
        if not f.enabled:
            attrs.append('style="dashed"')
        lines.append(f"  s{f.source_id} -> s{f.destination_id} [{', '.join(attrs)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def table_rows(registry: Registry) -> list[dict[str, str]]:
    """The seed's table: Source, Destination, Data, Frequency, Method (and health)."""
    return [
        {
            "Source": registry.name(f.source_id),
            "Destination": registry.name(f.destination_id),
            "Data": f.data,
            "Frequency": FREQUENCIES.get(f.frequency, f.frequency),
            "Method": METHODS.get(f.method, f.method),
            "Health": f.health.value,
            "Domain": f.domain,
        }
        for f in registry.flows
    ]


def table_csv(rows: list[dict[str, str]]) -> bytes:
    """The table as CSV (UTF-8 with a byte-order mark), formulas neutralised."""
    out = io.StringIO()
    columns = ["Source", "Destination", "Data", "Frequency", "Method", "Health", "Domain"]
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\r\n", extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: neutralise(v) for k, v in row.items()})
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def dot_installed() -> bool:
    """Whether the Graphviz ``dot`` program is here (SVG and PNG downloads need it)."""
    return shutil.which("dot") is not None


def render(dot_source: str, fmt: str) -> bytes:
    """The drawing as ``svg`` or ``png`` bytes, laid out by the ``dot`` program."""
    if fmt not in ("svg", "png"):
        raise ValueError(f"unsupported format {fmt!r}")
    try:
        return graphviz.Source(dot_source, engine="dot").pipe(format=fmt, quiet=True)
    except graphviz.ExecutableNotFound:
        raise ConfigurationError(
            "The Graphviz 'dot' program is not installed, so the map cannot be saved as an image.",
            fix="Install Graphviz (make run does it: apt-get install graphviz), or download DOT.",
        ) from None
    except graphviz.CalledProcessError as exc:
        reason = (exc.stderr or b"").decode(errors="replace").strip().splitlines()
        raise ConfigurationError(
            f"Graphviz could not draw the map ({reason[0] if reason else 'no reason given'}).",
            fix="Download the DOT file instead and report the problem.",
        ) from None
