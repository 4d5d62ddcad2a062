"""Audit log (admins): every change, filterable, and a check of the hash chain."""

from datetime import UTC, datetime, time

import pandas as pd
import streamlit as st

from core.audit import AuditFilter
from core.audit_log import audit_filter_values, read_audit_log, verify_audit_chain
from pages.common import actor, local_time, workspace

ws, me = workspace(), actor()
st.title("Audit log")

choices = audit_filter_values(ws, me)
cols = st.columns(4)
who = cols[0].selectbox("Who", ["(anyone)", *choices["actor"]])
what = cols[1].selectbox("What", ["(everything)", *choices["entity"]])
action = cols[2].selectbox("Action", ["(any)", *choices["action"]])
text = cols[3].text_input("Summary contains")
dates = st.date_input("Between", value=(), help="Leave empty for all dates.")

since = until = None
if isinstance(dates, tuple) and len(dates) == 2:
    since = datetime.combine(dates[0], time.min, tzinfo=UTC)
    until = datetime.combine(dates[1], time.max, tzinfo=UTC)
filters = AuditFilter(
    actor=None if who == "(anyone)" else who,
    entity=None if what == "(everything)" else what,
    action=None if action == "(any)" else action,
    since=since,
    until=until,
    text=text or None,
)
entries = read_audit_log(ws, me, filters)
st.caption(f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'} (newest first, up to 500)")
st.dataframe(
    pd.DataFrame(
        [
            {
                "#": e.id,
                "When": local_time(e.at),
                "Who": e.actor,
                "Action": e.action,
                "What": f"{e.entity} {e.entity_id}".strip(),
                "Summary": e.summary,
                "Before": e.before_json,
                "After": e.after_json,
            }
            for e in entries
        ],
        columns=["#", "When", "Who", "Action", "What", "Summary", "Before", "After"],
    ),
    hide_index=True,
    width="stretch",
)

if st.button("Verify the chain"):
    report = verify_audit_chain(ws, me)
    if report.ok:
        st.success(f"The chain is intact: {report.checked} entries verified.")
    else:
        where = f" at entry #{report.first_bad_id}" if report.first_bad_id else ""
        st.error(
            f"The chain is broken{where}: {report.reason}. {report.checked} entries "
            "before it are intact."
        )
