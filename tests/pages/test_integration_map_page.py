"""The Integration map page: drawn from the registry, filtered, with its table and analysis."""

from __future__ import annotations

from tests.dictionary.registry import add_flow, seed_registry
from tests.pages.conftest import sign_in, texts


def open_map(user: str = "viewer"):
    at = sign_in(user)
    at.switch_page("pages/integration_map.py").run()
    assert not at.exception
    return at


def chart(at) -> str:
    return at.get("graphviz_chart")[0].proto.spec


def test_the_map_draws_the_registry_with_its_table_and_analysis(people):
    systems = seed_registry(people)
    add_flow(
        people,
        systems,
        "Billing → BigQuery",
        "Billing",
        "BigQuery",
        "Invoices",
        runs=("failed", "failed"),
    )
    at = open_map()
    dot = chart(at)
    assert dot.count(" -> ") == 7
    assert '"Form data\\nReal-time · Webhook"' in dot
    assert 'color="#c62828"' in dot  # the failing flow
    table = at.dataframe[0].value
    assert list(table.columns) == ["Source", "Destination", "Data", "Frequency", "Method", "Health"]
    assert ("Website", "GA4", "Events", "Real-time", "JavaScript") in {
        tuple(r[:5]) for r in table.itertuples(index=False)
    }
    said = texts(at)
    assert "The flows are point-to-point" in said
    assert "CRM ↔ MAP is a two-way flow" in said
    downloads = {b.proto.label for b in at.get("download_button")}
    assert {"Table (CSV)", "Drawing (DOT)", "Drawing (SVG)", "Drawing (PNG)"} <= downloads


def test_filters_redraw_the_map(people):
    seed_registry(people)
    at = open_map()
    at.multiselect(key="map_methods").set_value(["etl", "native"]).run()
    dot = chart(at)
    assert dot.count(" -> ") == 2
    assert '"Spend\\nDaily · ETL"' in dot and "Contacts" not in dot
    assert len(at.dataframe[0].value) == 2
    at.multiselect(key="map_methods").set_value([]).run()
    at.multiselect(key="map_domains").set_value(["Sales"]).run()
    assert "Activities" in chart(at) and '"Spend' not in chart(at)


def test_an_empty_registry_says_how_to_start(people):
    at = open_map("editor")
    assert "the map draws itself" in texts(at)
