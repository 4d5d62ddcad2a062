"""Pattern analysis on hand-built registries: the pattern, scaling, failure points, events,
two-way flows."""

from __future__ import annotations

from itertools import combinations

from core.integration_map import MapFlow, MapSystem, Registry
from core.map_patterns import analyse


def registry(names: list[str], flows: list[tuple], critical=None) -> Registry:
    systems = {i: MapSystem(i, n, "other") for i, n in enumerate(names, start=1)}
    ids = {n: i for i, n in systems.items() for i, n in [(i, systems[i].name)]}
    built = []
    for number, spec in enumerate(flows, start=1):
        a, b, *rest = spec
        data, frequency, method = (rest + ["Records", "daily", "api"][len(rest) :])[:3]
        extra = rest[3] if len(rest) > 3 else {}
        built.append(
            MapFlow(number, f"{a} → {b} {data}", ids[a], ids[b], data, frequency, method, **extra)
        )
    return Registry(systems, built, critical or {})


def texts(analysis, topic):
    return [f.text for f in analysis.findings if f.topic == topic]


def test_point_to_point_past_what_a_team_can_maintain_says_links_and_savings():
    names = ["CRM", "MAP", "Ads", "Web", "Billing", "Warehouse"]
    pairs = list(combinations(names, 2))[:10]
    analysis = analyse(registry(names, pairs))
    assert analysis.pattern == "point-to-point"
    assert (analysis.systems, analysis.links) == (6, 10)
    (text,) = texts(analysis, "scaling")
    assert "grown past what a team can maintain" in text
    assert "10 direct links between 6 systems" in text
    assert "n·(n−1)/2 = 15" in text
    assert "6 in all: it would save 4 links now and 9 once every pair needs data" in text


def test_a_small_point_to_point_is_called_manageable():
    analysis = analyse(registry(["A", "B", "C"], [("A", "B"), ("B", "C")]))
    assert analysis.pattern == "point-to-point"
    (text,) = texts(analysis, "scaling")
    assert "still manageable: 2 links for 3 systems, where a hub would need 3" in text
    assert texts(analysis, "single point of failure") == []


def test_hub_and_spoke_names_the_hub_as_a_single_point_of_failure():
    names = ["Hub", "CRM", "MAP", "Ads", "Billing"]
    flows = [(n, "Hub") for n in names[1:]] + [("Hub", "CRM"), ("MAP", "Ads")]
    analysis = analyse(registry(names, flows))
    assert analysis.pattern == "hub and spoke"
    assert analysis.hub == "Hub"
    (pattern,) = texts(analysis, "pattern")
    assert "hub and spoke around Hub: 5 of 6 flows go through it; 1 flow still wire" in pattern
    (spof,) = texts(analysis, "single point of failure")
    assert spof.startswith("The hub Hub is a single point of failure: if it stops, 5 flows stop")
    assert "Billing, CRM reach the other systems only through it" in spof
    assert texts(analysis, "scaling") == []


def test_a_busy_system_outside_a_hub_is_a_single_point_of_failure():
    analysis = analyse(
        registry(
            ["CRM", "MAP", "Web", "Ads", "BI"],
            [("CRM", "MAP"), ("MAP", "CRM"), ("Web", "CRM"), ("Ads", "BI")],
        )
    )
    (spof,) = texts(analysis, "single point of failure")
    assert "CRM is a single point of failure: if it stops, 3 flows stop with it" in spof
    assert "MAP, Web reach the other systems only through it" in spof


def test_event_driven_when_most_flows_are_real_time_pushes():
    flows = [
        ("Web", "GA4", "Events", "real-time", "javascript"),
        ("Web", "CRM", "Form data", "real-time", "webhook"),
        ("Stripe", "CRM", "Payments", "real-time", "webhook"),
        ("CRM", "BI", "Deals", "daily", "etl"),
    ]
    analysis = analyse(registry(["Web", "GA4", "CRM", "Stripe", "BI"], flows))
    assert analysis.pattern == "event-driven"
    assert "3 of 4 flows are real-time pushes" in texts(analysis, "pattern")[0]


def test_real_time_high_volume_flows_are_event_bus_candidates():
    flows = [
        ("Web", "GA4", "Page views", "real-time", "javascript"),
        ("CRM", "MAP", "Contacts", "real-time", "api", {"records_per_run": 25_000.0}),
        ("MAP", "CRM", "Contacts", "real-time", "api", {"records_per_run": 10.0}),
        ("Ads", "BI", "Click events", "daily", "etl"),
    ]
    analysis = analyse(registry(["Web", "GA4", "CRM", "MAP", "Ads", "BI"], flows))
    (bus,) = [t for t in texts(analysis, "event bus") if "high-volume" in t]
    assert "Web → GA4 Page views (Web → GA4: page views arrive as a stream)" in bus
    assert "CRM → MAP Contacts (CRM → MAP: about 25,000 records a run)" in bus
    assert "MAP → CRM" not in bus and "Click events" not in bus


def test_real_time_fan_out_suggests_publishing_once():
    flows = [
        ("Web", "GA4", "Hits", "real-time", "javascript"),
        ("Web", "CRM", "Form data", "real-time", "webhook"),
    ]
    analysis = analyse(registry(["Web", "GA4", "CRM"], flows))
    assert any(
        "Web feeds 2 systems in real time (CRM, GA4)" in t for t in texts(analysis, "event bus")
    )


def test_two_way_flows_name_the_conflict_rule_and_critical_fields():
    flows = [("CRM", "MAP", "Contacts"), ("MAP", "CRM", "Activities"), ("Web", "CRM", "Forms")]
    analysis = analyse(registry(["CRM", "MAP", "Web"], flows, critical={1: ["opp_value"]}))
    (two_way,) = texts(analysis, "two-way flow")
    assert two_way.startswith("CRM ↔ MAP is a two-way flow")
    assert "last write wins by the source's own modification time" in two_way
    assert "review queue" in two_way
    assert "Critical fields here: opp_value (CRM)." in two_way
    plain = analyse(registry(["CRM", "MAP"], flows[:2]))
    assert "No field of these systems is marked critical yet" in texts(plain, "two-way flow")[0]


def test_paused_flows_and_an_empty_registry():
    assert analyse(Registry({}, [])).pattern == "none"
    paused = registry(["A", "B"], [("A", "B", "X", "daily", "api", {"enabled": False})])
    assert analyse(paused).pattern == "none"
