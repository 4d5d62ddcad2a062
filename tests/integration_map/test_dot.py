"""The map's DOT: nodes by category, edges labelled and coloured by health, clusters, filters."""

from __future__ import annotations

import re

import pytest

from core.integration_map import (
    HEALTH_COLOURS,
    Health,
    MapFilter,
    MapFlow,
    MapSystem,
    Registry,
    build_dot,
    dot_installed,
    health_of,
    load_registry,
    render,
    select_view,
    table_csv,
    table_rows,
)
from tests.conftest import VIEWER
from tests.dictionary.registry import add_flow, add_systems, seed_registry


def edge(dot: str, source: int, destination: int) -> str:
    return next(line for line in dot.splitlines() if f"s{source} -> s{destination} " in line)


@pytest.mark.parametrize(
    ("statuses", "health"),
    [
        ([], Health.NO_DATA),
        (["queued", "running", "cancelled"], Health.NO_DATA),
        (["succeeded"] * 7, Health.HEALTHY),
        (
            ["succeeded", "succeeded", "succeeded", "succeeded", "succeeded", "failed"],
            Health.HEALTHY,
        ),
        (["succeeded", "failed", "succeeded"], Health.DEGRADED),
        (["failed", "succeeded", "succeeded"], Health.DEGRADED),
        (["failed"], Health.FAILING),
        (["failed", "running", "failed", "succeeded"], Health.FAILING),
    ],
)
def test_the_health_rule(statuses, health):
    assert health_of(statuses) == health


def test_the_seed_registry_draws_every_system_and_flow(ws):
    systems = seed_registry(ws)
    dot = build_dot(load_registry(ws, VIEWER))
    for name, shape in [
        ("Website", "tab"),
        ("GA4", "ellipse"),
        ("BigQuery", "cylinder"),
        ("CRM", "box"),
        ("MAP", "component"),
        ("Ad platforms", "hexagon"),
        ("Billing", "note"),
    ]:
        assert re.search(rf's{systems[name]} \[label="{name}", shape={shape}, fillcolor="#', dot)
    assert dot.count(" -> ") == 6
    line = edge(dot, systems["CRM"], systems["MAP"])
    assert 'label="Contacts\\nReal-time · API"' in line
    assert f'color="{HEALTH_COLOURS[Health.NO_DATA]}"' in line
    assert 'label="Spend\\nDaily · ETL"' in edge(dot, systems["Ad platforms"], systems["BigQuery"])
    clusters = re.findall(r'subgraph cluster_\d+ \{\n    label="([^"]+)"', dot)
    assert clusters == ["Marketing", "Sales", "Product", "Finance"]


def test_edges_are_coloured_by_the_runs(ws):
    systems = add_systems(ws)
    runs = {
        "Healthy": ("succeeded", "succeeded"),
        "Degraded": ("failed", "succeeded"),
        "Failing": ("succeeded", "failed", "failed"),
        "Unknown": (),
    }
    pairs = [("CRM", "MAP"), ("MAP", "CRM"), ("Website", "CRM"), ("GA4", "BigQuery")]
    for (name, history), (a, b) in zip(runs.items(), pairs, strict=True):
        add_flow(ws, systems, name, a, b, runs=history)
    registry = load_registry(ws, VIEWER)
    assert [f.health for f in registry.flows] == [
        Health.HEALTHY,
        Health.DEGRADED,
        Health.FAILING,
        Health.NO_DATA,
    ]
    dot = build_dot(registry)
    assert 'color="#2e7d32"' in edge(dot, systems["CRM"], systems["MAP"])
    assert 'color="#f59e0b"' in edge(dot, systems["MAP"], systems["CRM"])
    assert 'color="#c62828"' in edge(dot, systems["Website"], systems["CRM"])
    assert 'color="#9e9e9e"' in edge(dot, systems["GA4"], systems["BigQuery"])


def hand_built() -> Registry:
    systems = {
        1: MapSystem(1, 'Web "site"', "website"),
        2: MapSystem(2, "CRM", "crm", "Sales"),
        3: MapSystem(3, "Warehouse", "warehouse", "Product"),
        4: MapSystem(4, "Billing", "billing", "Finance"),
    }
    flows = [
        MapFlow(1, "Forms", 1, 2, "Form data", "real-time", "webhook", "Sales"),
        MapFlow(2, "Deals", 2, 3, "Deals\\raw", "daily", "etl", "Sales", enabled=False),
        MapFlow(3, "Invoices", 4, 3, "Invoices", "weekly", "api", "Finance", "critical"),
    ]
    return Registry(systems, flows)


def test_labels_are_escaped_and_paused_or_critical_flows_look_different():
    dot = build_dot(hand_built())
    assert 's1 [label="Web \\"site\\""' in dot
    assert 'label="Deals\\\\raw\\nDaily · ETL"' in edge(dot, 2, 3)
    assert 'style="dashed"' in edge(dot, 2, 3)
    assert "penwidth=3" in edge(dot, 4, 3)
    assert build_dot(hand_built()) == dot  # deterministic


def test_filters_keep_the_flows_asked_for():
    registry = hand_built()
    by_method = select_view(registry, MapFilter(methods=("etl",)))
    assert [f.name for f in by_method.flows] == ["Deals"]
    assert set(by_method.systems) == {2, 3}
    by_domain = select_view(registry, MapFilter(domains=("Finance",)))
    assert [f.name for f in by_domain.flows] == ["Invoices"]
    assert set(by_domain.systems) == {3, 4}
    by_system = select_view(registry, MapFilter(system_ids=(2,)))
    assert [f.name for f in by_system.flows] == ["Forms", "Deals"]
    by_frequency = select_view(registry, MapFilter(frequencies=("weekly", "real-time")))
    assert [f.name for f in by_frequency.flows] == ["Forms", "Invoices"]
    assert select_view(registry, MapFilter()).flows == registry.flows


def test_the_table_matches_the_seed_columns_and_its_csv_is_safe():
    rows = table_rows(hand_built())
    assert list(rows[0])[:5] == ["Source", "Destination", "Data", "Frequency", "Method"]
    assert rows[0]["Source"] == 'Web "site"' and rows[0]["Method"] == "Webhook"
    registry = hand_built()
    registry.systems[4] = MapSystem(4, "=HYPERLINK(1)", "billing", "Finance")
    data = table_csv(table_rows(registry)).decode("utf-8-sig")
    assert "'=HYPERLINK(1)" in data and "\n=HYPERLINK" not in data


def test_thirty_systems_and_a_hundred_flows_lay_out_without_overlap():
    if not dot_installed():
        pytest.skip("the Graphviz dot program is not installed")
    domains = ("Marketing", "Sales", "Customer Success", "Product", "Finance")
    categories = ("crm", "map", "analytics", "ads", "warehouse", "website", "billing")
    systems = {
        i: MapSystem(i, f"System {i}", categories[i % 7], domains[i % 5]) for i in range(1, 31)
    }
    flows = [
        MapFlow(n, f"Flow {n}", 1 + n % 30, 1 + (n * 7 + 3) % 30, f"Data {n}", "daily", "api")
        for n in range(1, 101)
        if n % 30 != (n * 7 + 3) % 30
    ]
    svg = render(build_dot(Registry(systems, flows)), "svg").decode()
    assert svg.count('class="node"') == 30
    assert svg.count('class="cluster"') == 5
    assert svg.count('class="edge"') == len(flows)
    assert "Data 42" in svg
