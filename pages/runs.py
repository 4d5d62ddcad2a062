"""Runs: every run of every flow — status, counts, cursors, and for a failure whose problem
it is and what to do."""

import pandas as pd
import streamlit as st

from core.errors import SwitchboardError
from core.integrations import list_integrations
from core.permissions import Action
from core.runs import get_run, list_runs, rejected_records, request_cancel
from pages.common import actor, flash, local_time, show_error, show_flash, workspace

ws, me = workspace(), actor()
st.title("Runs")
show_flash()

flows = {f.id: f.name for f in list_integrations(ws, me)}
left, right = st.columns(2)
flow_id = left.selectbox(
    "Flow", [None, *flows], format_func=lambda i: "(all)" if i is None else flows[i]
)
status = right.selectbox(
    "Status",
    ["", "queued", "running", "succeeded", "failed", "cancelled"],
    format_func=lambda s: s or "(any)",
)
runs = list_runs(ws, me, integration_id=flow_id, status=status or None)
if st.button("Refresh"):
    st.rerun()
st.dataframe(
    pd.DataFrame(
        [
            {
                "Run": r.id,
                "Flow": r.integration_name,
                "Status": r.status,
                "Trigger": r.trigger,
                "Started": local_time(r.started_at),
                "Duration (s)": None if r.duration_s is None else round(r.duration_s, 1),
                "Read": r.records_read,
                "Written": r.records_written,
                "Rejected": r.records_rejected,
                "Left out": r.skipped_suppressed + r.skipped_no_consent,
                "Requests": r.requests,
                "Retries": r.retries,
                "429s": r.rate_limited,
                "Cursor before": r.cursor_before,
                "Cursor after": r.cursor_after,
            }
            for r in runs
        ],
    ),
    hide_index=True,
    width="stretch",
)
if not runs:
    st.info("No run yet. Open a flow on Integrations and press Run now.")
    st.stop()

run = get_run(
    ws, me, st.selectbox("Run details", [r.id for r in runs], format_func=lambda i: f"#{i}")
)
st.subheader(f"Run #{run.id} — {run.integration_name}: {run.status}")
if run.status == "failed":
    st.error(
        f"**Whose problem:** {run.error_whose or 'unknown'}\n\n{run.error_message}\n\n"
        f"**What to do:** {run.error_fix}"
    )
elif run.error_message:
    st.info(run.error_message)
cols = st.columns(6)
cols[0].metric("Read", run.records_read)
cols[1].metric("Written", run.records_written)
cols[2].metric("Rejected", run.records_rejected)
cols[3].metric(
    "Suppressed",
    run.skipped_suppressed,
    help="Left out: the person asked to be deleted (suppression list).",
)
cols[4].metric(
    "No consent",
    run.skipped_no_consent,
    help="Left out: the flow requires a consent purpose the person has not given.",
)
cols[5].metric("Pages", run.pages)
rejected = rejected_records(ws, me, run.id)
if rejected:
    st.markdown("**Rejected records**")
    st.dataframe(pd.DataFrame(rejected), hide_index=True, width="stretch")
if run.status in ("queued", "running") and me.may(Action.RUN_INTEGRATIONS):
    if st.button("Cancel this run", disabled=run.cancel_requested):
        try:
            request_cancel(ws, me, run.id)
            flash(f"Cancel requested for run #{run.id}.")
            st.rerun()
        except SwitchboardError as exc:
            show_error(exc)
