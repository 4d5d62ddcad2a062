"""Health: every flow's checks with their newest result; editors change thresholds."""

import pandas as pd
import streamlit as st

from core.errors import SwitchboardError
from core.health_checks import (
    KINDS,
    SEVERITIES,
    CheckInput,
    check_history,
    list_checks,
    run_check_now,
    update_check,
)
from core.permissions import Action
from pages.common import actor, flash, local_time, show_error, show_flash, workspace

ws, me = workspace(), actor()
st.title("Health")
show_flash()
MARK = {"ok": "🟢 ok", "failing": "🔴 failing", "no_data": "⚪ no data"}

checks = list_checks(ws, me)
if not checks:
    st.info("No health check yet: the worker adds six checks to every flow when it starts.")
    st.stop()
failing = sum(c.status == "failing" for c in checks)
cols = st.columns(3)
cols[0].metric("Flows", len({c.integration_id for c in checks}))
cols[1].metric("Checks failing", failing)
cols[2].metric("Checks passing", sum(c.status == "ok" for c in checks))
only_failing = st.toggle("Only failing checks", value=False)
shown = [c for c in checks if c.status == "failing"] if only_failing else checks
st.dataframe(
    pd.DataFrame(
        [
            {"Flow": c.flow, "Check": c.label, "Status": MARK.get(c.status, c.status),
             "Value": c.value, "Threshold": f"{c.threshold:g} {c.unit}",
             "Severity": c.severity, "Every (min)": c.every_minutes,
             "Last checked": local_time(c.at), "Detail": c.message}
            for c in shown
        ]
    ),
    hide_index=True,
    width="stretch",
)  # fmt: skip

by_id = {c.id: c for c in checks}
chosen = st.selectbox(
    "Check", list(by_id), format_func=lambda i: f"{by_id[i].flow} — {by_id[i].label}"
)
check = by_id[chosen]
history = check_history(ws, me, check.id, limit=100)
if history:
    st.line_chart(pd.DataFrame(history).set_index("at")[["value"]], height=200)
if me.may(Action.MANAGE_MONITORING):
    kind = KINDS[check.kind]
    with st.form("edit_check"):
        st.subheader(f"Edit: {check.flow} — {check.label}")
        threshold = st.number_input(
            f"Threshold ({kind.unit}; allowed {kind.low:g}–{kind.high:g})",
            value=float(check.threshold),
            format="%.3f",
        )
        every = st.number_input("Every (minutes)", value=int(check.every_minutes), step=1)
        severity = st.selectbox("Severity", SEVERITIES, index=SEVERITIES.index(check.severity))
        mode, expected = check.expected_mode, check.expected_value
        if check.kind == "record_count":
            mode = st.radio(
                "Expected", ["learned", "manual"], index=["learned", "manual"].index(mode),
                format_func={"learned": "Learned (median of the same hour and weekday, 14 days)",
                             "manual": "Set by hand"}.get, horizontal=True,
            )  # fmt: skip
            expected = st.number_input("Expected records (when set by hand)", value=expected or 0.0)
        enabled = st.checkbox("Enabled", value=check.enabled)
        if st.form_submit_button("Save check"):
            try:
                update_check(
                    ws, me, check.id,
                    CheckInput(threshold, int(every), severity, mode, expected or None, enabled),
                )  # fmt: skip
                flash("Check saved.")
                st.rerun()
            except SwitchboardError as exc:
                show_error(exc)
    if st.button("Check now"):
        try:
            result = run_check_now(ws, me, check.id)
            flash(f"{MARK.get(result.status, result.status)}: {result.message}")
            st.rerun()
        except SwitchboardError as exc:
            show_error(exc)
