"""Vendor scoring, for the meeting: every table and chart of one evaluation, no widgets.

Opened from Vendor scoring with ``?evaluation=<id>``; without it, the newest evaluation.
"""

import streamlit as st

from core.errors import NotFound
from core.vendor_scoring import list_evaluations, load_worksheet
from core.vendor_scoring_charts import category_bars, category_radar
from core.vendor_scoring_export import notes
from core.vendor_scoring_sensitivity import sensitivity
from core.vendor_scoring_sheet import score
from core.vendor_scoring_tables import (
    consensus_frame,
    disagreements_frame,
    missing_frame,
    ranking_frame,
    sensitivity_frame,
    weights_frame,
)
from pages.common import actor, workspace

ws, me = workspace(), actor()
# printed pages carry no navigation, toolbar or chart buttons
st.markdown(
    "<style>@media print {[data-testid='stSidebar'], header, [data-testid='stToolbar'] "
    "{display: none !important}}</style>",
    unsafe_allow_html=True,
)
wanted = st.query_params.get("evaluation", "")
evaluations = list_evaluations(ws, me)
chosen = next((e for e in evaluations if str(e.id) == wanted), None)
if chosen is None and evaluations and not wanted:
    chosen = evaluations[0]
if chosen is None:
    raise NotFound(
        "There is no such evaluation to print.",
        fix="Open the print view from Vendor scoring → Results.",
    )

w = load_worksheet(ws, me, chosen.id)
sheet = w.sheet
results = score(sheet)
verdict = sensitivity(sheet, results)
st.title(w.evaluation.name)
st.caption(" · ".join(notes(w, results, verdict)[1:4]))
if w.evaluation.description:
    st.write(w.evaluation.description)

figure_config = {"displayModeBar": False, "staticPlot": True}


def table(frame, digits: int = 1) -> None:  # noqa: ANN001
    """A static table, numbers to ``digits`` decimals, blanks as a dash."""
    st.table(frame.style.format(precision=digits, na_rep="—").hide(axis="index"))


st.header("Ranking")
table(ranking_frame(sheet, results), 1)
st.plotly_chart(category_bars(sheet, results), config=figure_config, key="bars")
st.plotly_chart(category_radar(sheet, results), config=figure_config, key="radar")
st.header("Sensitivity")
st.markdown(f"**The result is {verdict.verdict}**")
table(sensitivity_frame(verdict), 1)
st.header("Where evaluators disagree")
table(disagreements_frame(results, w.people))
st.header("Consensus per criterion (mean and median)")
table(consensus_frame(sheet, results), 2)
st.header("Weights")
table(weights_frame(sheet), 2)
if not results.complete:
    st.header("Missing scores")
    table(missing_frame(results, w.people))
st.caption(notes(w, results, verdict)[-1])
