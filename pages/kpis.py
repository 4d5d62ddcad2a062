"""KPIs: response time, freshness, uptime and error rate against the MVP and post-MVP
targets, per flow, per domain and overall, over a chosen period."""

from datetime import UTC, datetime, time, timedelta

import pandas as pd
import plotly.express as px
import streamlit as st

from core.kpis import TARGETS, kpi_report, kpi_series
from pages.common import actor, workspace

ws, me = workspace(), actor()
st.title("KPIs")
st.caption(
    "Percentiles by the nearest-rank method over every stored call of a flow; error rate = "
    "calls not answered ok; uptime = hours with at least one answer below 500."
)
today = datetime.now(UTC).date()
period = st.date_input("Period", value=(today - timedelta(days=6), today), max_value=today)
first, last = (period[0], period[-1]) if isinstance(period, tuple) and period else (today, today)
start = datetime.combine(first, time.min, tzinfo=UTC)
end = datetime.combine(last, time.min, tzinfo=UTC) + timedelta(days=1)
report = kpi_report(ws, me, start, end)


def _fmt(value: float | None, unit: str) -> str:
    return "—" if value is None else f"{value:,.1f} {unit}"


def _mark(ok: bool | None) -> str:
    return "—" if ok is None else ("✅" if ok else "❌")


o = report.overall
cols = st.columns(5)
cols[0].metric("p90 (MVP < 500 ms)", _fmt(o.p90_ms, "ms"))
cols[1].metric("p95 (post-MVP < 200 ms)", _fmt(o.p95_ms, "ms"))
cols[2].metric("Uptime (98 % / 99.9 %)", _fmt(o.uptime_pct, "%"))
cols[3].metric("Error rate (1 % / 0.1 %)", _fmt(o.error_rate_pct, "%"))
cols[4].metric("Error budget left", _fmt(o.budget_left_pct, "%"))


def table(rows: list, with_freshness: bool = False) -> pd.DataFrame:
    out = []
    for r in rows:
        line = {"Name": r.name, "Calls": r.calls, "p90 ms": r.p90_ms, "p95 ms": r.p95_ms,
                "Uptime %": r.uptime_pct, "Error rate %": r.error_rate_pct,
                "Budget left %": r.budget_left_pct}  # fmt: skip
        for key, (label, _mvp, _post) in TARGETS.items():
            line[f"{label} MVP"] = _mark(r.meets(key, "mvp"))
            line[f"{label} post-MVP"] = _mark(r.meets(key, "post"))
        if with_freshness:
            line["Freshness h"] = r.freshness_hours
            line["Freshness target h"] = r.freshness_target_hours
            line["Fresh"] = _mark(
                None if r.freshness_hours is None
                else r.freshness_hours <= r.freshness_target_hours
            )  # fmt: skip
        out.append(line)
    return pd.DataFrame(out)


st.subheader("Per domain")
st.dataframe(table(report.domains), hide_index=True, width="stretch")
st.subheader("Per flow")
st.dataframe(table(report.flows, with_freshness=True), hide_index=True, width="stretch")

series = kpi_series(ws, me, start, end)
if series:
    frame = pd.DataFrame(series)
    st.plotly_chart(
        px.line(frame, x="period", y="p95_ms", title="p95 response time (ms)", markers=True),
        width="stretch",
    )
    st.plotly_chart(
        px.bar(frame, x="period", y="error_rate_pct", title="Error rate (%)"), width="stretch"
    )
else:
    st.info("No call was made in this period.")
