"""Integration map: drawn from the registry at every view, with its table and analysis."""

import pandas as pd
import streamlit as st

from core.connectors.registry import DOMAINS
from core.integration_map import (
    MapFilter,
    build_dot,
    dot_installed,
    load_registry,
    render,
    select_view,
    table_csv,
    table_rows,
)
from core.integrations import FREQUENCIES, METHODS
from core.map_patterns import analyse
from pages.common import actor, workspace

ws, me = workspace(), actor()
st.title("Integration map")
registry = load_registry(ws, me)
systems = {s.id: s.name for s in sorted(registry.systems.values(), key=lambda s: s.name)}

columns = st.columns(4)
chosen = MapFilter(
    domains=tuple(columns[0].multiselect("Domain", DOMAINS, key="map_domains")),
    system_ids=tuple(
        columns[1].multiselect("System", list(systems), format_func=systems.get, key="map_systems")
    ),
    methods=tuple(
        columns[2].multiselect("Method", list(METHODS), format_func=METHODS.get, key="map_methods")
    ),
    frequencies=tuple(
        columns[3].multiselect(
            "Frequency", list(FREQUENCIES), format_func=FREQUENCIES.get, key="map_frequencies"
        )
    ),
)
view = select_view(registry, chosen)
dot = build_dot(view)
rows = table_rows(view)

if not registry.systems:
    st.info("Nothing registered yet: add systems and flows, and the map draws itself.")
    st.stop()

drawing, table = st.columns([3, 2])
with drawing:
    st.graphviz_chart(dot, width="stretch")
    badge = {"healthy": "green", "degraded": "orange", "failing": "red", "no data": "gray"}
    st.caption(
        "Edge colour: "
        + " · ".join(f":{badge[h]}[{h}]" for h in badge)
        + " — from the last 5 finished runs. Thick edges are high or critical flows; "
        "dashed edges are paused."
    )
with table:
    st.dataframe(
        pd.DataFrame(
            rows, columns=["Source", "Destination", "Data", "Frequency", "Method", "Health"]
        ),
        hide_index=True,
        width="stretch",
    )
    st.download_button(
        "Table (CSV)", table_csv(rows), "integration_map.csv", "text/csv", key="map_csv"
    )
    st.download_button(
        "Drawing (DOT)", dot, "integration_map.dot", "text/vnd.graphviz", key="map_dot"
    )
    if dot_installed():
        st.download_button(
            "Drawing (SVG)",
            lambda: render(dot, "svg"),
            "integration_map.svg",
            "image/svg+xml",
            key="map_svg",
        )
        st.download_button(
            "Drawing (PNG)",
            lambda: render(dot, "png"),
            "integration_map.png",
            "image/png",
            key="map_png",
        )
    else:
        st.caption("SVG and PNG downloads need the Graphviz 'dot' program (make run installs it).")

st.subheader("What the pattern says")
analysis = analyse(view)
for finding in analysis.findings:
    (st.warning if finding.level == "warning" else st.info)(
        f"**{finding.topic.capitalize()}.** {finding.text}"
    )
