"""Which integration pattern the registered flows form, and what that means, in plain words.

The three patterns (SPEC §1): point-to-point (each pair of systems wired directly), hub and
spoke (every flow goes through one hub), event-driven (sources publish events that
destinations subscribe to). The rules, all on enabled flows:

- **Pattern.** *Event-driven* when at least 60 % of flows are real-time pushes (webhook or
  JavaScript tag). Otherwise *hub and spoke* when one system takes part in at least 60 % of
  flows and talks to at least 3 others, with 4 or more systems in play. Otherwise
  *point-to-point*.
- **Point-to-point past what a team can maintain.** With n systems wired by L direct links
  (pairs of systems with at least one flow), a hub needs n connections, one per system.
  Once L > n the hub is cheaper: the warning gives L, n·(n−1)/2 (every pair wired) and the
  links a hub would save (L − n now, n·(n−1)/2 − n at full wiring).
- **Single point of failure.** The hub, and any system at least 3 flows depend on (as
  source or destination): the flows that stop with it are named, and the systems that
  reach the others only through it.
- **Event bus candidates.** Real-time flows that are high-volume — their data is a stream
  of events (events, activities, clicks, page views, sessions, impressions, tracking) or
  their recent runs read 1,000 records or more on average — and real-time fan-out (one
  source feeding 2 or more destinations in real time).
- **Two-way flows.** Pairs of systems with flows both ways (CRM ↔ MAP) and the conflict
  rule they rely on: field-level last write wins by the source's own modification time,
  the losing value kept in the audit trail, conflicts on fields marked critical sent to
  the review queue for a person.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from core.integration_map import MapFlow, Registry

SHARE = 0.6
HUB_MIN_NEIGHBOURS = 3
HUB_MIN_SYSTEMS = 4
SPOF_MIN_FLOWS = 3
HIGH_VOLUME_RECORDS = 1000
EVENT_WORDS = (
    "event",
    "activit",
    "click",
    "page view",
    "pageview",
    "session",
    "impression",
    "tracking",
    "behavio",
    "interaction",
)
PUSH_METHODS = ("webhook", "javascript")


@dataclass(frozen=True)
class Finding:
    """One thing the analysis says: a topic, how loud (info or warning), the sentence."""

    topic: str
    level: str
    text: str


@dataclass(frozen=True)
class Analysis:
    pattern: str
    hub: str | None
    systems: int
    links: int
    findings: tuple[Finding, ...]


def _names(flows: list[MapFlow], limit: int = 6) -> str:
    names = [f.name for f in flows]
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _high_volume(f: MapFlow) -> str | None:
    data = f.data.lower()
    word = next((w for w in EVENT_WORDS if w in data), None)
    if word:
        return f"{f.data.lower()} arrive as a stream"
    if f.records_per_run is not None and f.records_per_run >= HIGH_VOLUME_RECORDS:
        return f"about {f.records_per_run:,.0f} records a run"
    return None


def analyse(registry: Registry) -> Analysis:
    """Read the registry's shape and say what it means (see the module doc for the rules)."""
    flows = [
        f
        for f in registry.flows
        if f.enabled
        and f.source_id != f.destination_id
        and f.source_id in registry.systems
        and f.destination_id in registry.systems
    ]
    name = registry.name
    if not flows:
        return Analysis(
            "none",
            None,
            0,
            0,
            (Finding("pattern", "info", "No flows are registered yet, so there is no pattern."),),
        )
    touching: dict[int, list[MapFlow]] = defaultdict(list)
    neighbours: dict[int, set[int]] = defaultdict(set)
    pairs: dict[frozenset[int], list[MapFlow]] = defaultdict(list)
    for f in flows:
        touching[f.source_id].append(f)
        touching[f.destination_id].append(f)
        neighbours[f.source_id].add(f.destination_id)
        neighbours[f.destination_id].add(f.source_id)
        pairs[frozenset((f.source_id, f.destination_id))].append(f)
    n, links = len(touching), len(pairs)
    mesh = n * (n - 1) // 2
    findings: list[Finding] = []

    busiest = max(touching, key=lambda s: (len(touching[s]), len(neighbours[s]), -s))
    hub = None
    if (
        n >= HUB_MIN_SYSTEMS
        and len(neighbours[busiest]) >= HUB_MIN_NEIGHBOURS
        and len(touching[busiest]) >= SHARE * len(flows)
    ):
        hub = busiest
    pushes = [f for f in flows if f.frequency == "real-time" and f.method in PUSH_METHODS]
    if len(pushes) >= SHARE * len(flows):
        pattern = "event-driven"
        findings.append(
            Finding(
                "pattern",
                "info",
                f"The flows are event-driven: {len(pushes)} of {_plural(len(flows), 'flow')} "
                "are real-time pushes (webhooks or tags) sent as things happen.",
            )
        )
    elif hub is not None:
        pattern = "hub and spoke"
        bypass = len(flows) - len(touching[hub])
        findings.append(
            Finding(
                "pattern",
                "info",
                f"The flows form a hub and spoke around {name(hub)}: "
                f"{len(touching[hub])} of {_plural(len(flows), 'flow')} go through it"
                + (
                    f"; {_plural(bypass, 'flow')} still wire two systems directly."
                    if bypass
                    else "."
                ),
            )
        )
    else:
        pattern = "point-to-point"
        findings.append(
            Finding(
                "pattern",
                "info",
                f"The flows are point-to-point: {n} systems wired pairwise by "
                f"{_plural(links, 'direct link')}, each with its own code, credentials and "
                "failure mode.",
            )
        )

    if pattern == "point-to-point":
        if links > n:
            findings.append(
                Finding(
                    "scaling",
                    "warning",
                    f"Point-to-point has grown past what a team can maintain: "
                    f"{_plural(links, 'direct link')} between {n} systems, and wiring every "
                    f"pair would take n·(n−1)/2 = {mesh}. A hub needs one connection per "
                    f"system, {n} in all: it would save {links - n} links now and "
                    f"{mesh - n} once every pair needs data.",
                )
            )
        else:
            findings.append(
                Finding(
                    "scaling",
                    "info",
                    f"Point-to-point is still manageable: {_plural(links, 'link')} for {n} "
                    f"systems, where a hub would need {n}. It stops scaling once links outnumber "
                    f"systems; wiring every pair would take n·(n−1)/2 = {mesh}.",
                )
            )

    spofs = [hub] if hub is not None else []
    spofs += sorted(
        (s for s in touching if s != hub and len(touching[s]) >= SPOF_MIN_FLOWS),
        key=lambda s: (-len(touching[s]), name(s).casefold()),
    )
    for s in spofs:
        stranded = sorted(
            name(o) for o in neighbours[s] if neighbours[o] == {s} and len(touching) > 2
        )
        role = "The hub " if s == hub else ""
        text = (
            f"{role}{name(s)} is a single point of failure: if it stops, "
            f"{_plural(len(touching[s]), 'flow')} stop with it ({_names(touching[s])})."
        )
        if stranded:
            text += f" {', '.join(stranded)} reach{'es' if len(stranded) == 1 else ''} the "
            text += "other systems only through it."
        text += " Watch it closely, alert on it, and queue changes so a restart loses nothing."
        findings.append(Finding("single point of failure", "warning", text))

    realtime = [f for f in flows if f.frequency == "real-time"]
    heavy = [(f, why) for f in realtime if (why := _high_volume(f))]
    if heavy:
        listed = "; ".join(
            f"{f.name} ({name(f.source_id)} → {name(f.destination_id)}: {why})" for f, why in heavy
        )
        findings.append(
            Finding(
                "event bus",
                "warning" if len(heavy) > 1 else "info",
                f"Real-time, high-volume flows that would suit an event bus: {listed}. On a "
                "bus the source publishes each event once and every destination subscribes, "
                "with buffering and replay, instead of pushing each one directly.",
            )
        )
    fan_out: dict[int, list[MapFlow]] = defaultdict(list)
    for f in realtime:
        fan_out[f.source_id].append(f)
    for source, out in sorted(fan_out.items(), key=lambda kv: name(kv[0]).casefold()):
        targets = sorted({name(f.destination_id) for f in out})
        if len(targets) >= 2:
            findings.append(
                Finding(
                    "event bus",
                    "info",
                    f"{name(source)} feeds {len(targets)} systems in real time "
                    f"({', '.join(targets)}): publishing its events once to a bus would "
                    f"replace {len(out)} separate pushes.",
                )
            )

    for pair, carried in sorted(pairs.items(), key=lambda kv: sorted(name(s) for s in kv[0])):
        a, b = sorted(pair, key=lambda s: name(s).casefold())
        forward = [f for f in carried if f.source_id == a]
        backward = [f for f in carried if f.source_id == b]
        if not forward or not backward:
            continue
        critical = [f"{c} ({name(s)})" for s in (a, b) for c in registry.critical_fields.get(s, [])]
        text = (
            f"{name(a)} ↔ {name(b)} is a two-way flow ({_names(forward + backward)}). Both "
            "sides write, so they rely on the conflict rule: field by field, the last write "
            "wins by the source's own modification time, and the losing value is kept in the "
            "audit trail; a conflict on a field marked critical waits in the review queue "
            "for a person."
        )
        if critical:
            text += f" Critical fields here: {', '.join(critical)}."
        else:
            text += (
                " No field of these systems is marked critical yet: mark the ones a person "
                "must decide (deal values, consent) in the data dictionary."
            )
        findings.append(Finding("two-way flow", "info", text))

    return Analysis(pattern, name(hub) if hub is not None else None, n, links, tuple(findings))
