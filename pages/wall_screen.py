"""The wall screen: big tiles per flow, open alerts by severity, KPIs against target.
Opened with a display link (``?display=<token>``), without sign-in; it refreshes itself."""

import html

import streamlit as st

from core.errors import SwitchboardError
from core.wall_screen import WallAccess, WallData, open_display, wall_data
from pages.common import workspace

COLOURS = {"green": "#1e8e3e", "amber": "#f9ab00", "red": "#d93025", "grey": "#80868b"}
st.markdown(
    """<style>
    [data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
    [data-testid="stToolbar"], [data-testid="stHeader"], footer {display: none !important;}
    .tile {border-radius: 12px; padding: 18px; margin: 6px 0; color: white;
           font-size: 1.6rem; font-weight: 700; min-height: 90px;}
    .big {font-size: 2.2rem; font-weight: 700;}
    </style>""",
    unsafe_allow_html=True,
)
ws = workspace()
try:
    access = open_display(ws, str(st.query_params.get("display", "")))
except SwitchboardError:
    access = None
if access is None:
    st.title("This display link is no longer valid")
    st.write("Ask an admin of Switchboard for a new link.")
    st.stop()


@st.cache_data(ttl=5, show_spinner=False)
def _data(link_id: int, name: str, refresh: int) -> WallData:
    # cached across every screen showing this link, so many TVs cost one query
    return wall_data(ws, WallAccess(link_id, name, refresh))


@st.fragment(run_every=access.refresh_seconds)
def board() -> None:
    current = open_display(ws, str(st.query_params.get("display", "")))
    if current is None:
        st.title("This display link is no longer valid")
        return
    data = _data(current.link_id, current.name, current.refresh_seconds)
    st.markdown(
        f"<div class='big'>Switchboard — {html.escape(current.name)}</div>", unsafe_allow_html=True
    )
    st.caption(f"Updated {data.at:%H:%M:%S} UTC · refreshes every {current.refresh_seconds} s")
    counts = st.columns(4)
    for column, (level, count) in zip(counts, data.alerts.items(), strict=True):
        column.metric(f"Open {level} alerts", count)
    k = data.kpis
    kpi = st.columns(4)
    kpi[0].metric("p90, recent calls (< 500 ms)", "—" if k.p90_ms is None else f"{k.p90_ms:.0f} ms")
    kpi[1].metric("p95, recent calls (< 200 ms)", "—" if k.p95_ms is None else f"{k.p95_ms:.0f} ms")
    kpi[2].metric("Uptime (≥ 98 %)", "—" if k.uptime_pct is None else f"{k.uptime_pct:.1f} %")
    kpi[3].metric(
        "Error rate (< 1 %)", "—" if k.error_rate_pct is None else f"{k.error_rate_pct:.2f} %"
    )
    columns = st.columns(4)
    for index, tile in enumerate(data.tiles):
        columns[index % 4].markdown(
            f"<div class='tile' style='background:{COLOURS[tile.colour]}' "
            f"data-colour='{tile.colour}'>{html.escape(tile.flow)}<br>"
            f"<small>{tile.failing} failing of {tile.measured}</small></div>",
            unsafe_allow_html=True,
        )


board()
