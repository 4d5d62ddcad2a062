"""Compliance report (admins): pick a period, see each section's summary, download the
printable report and the CSV of who changed and who accessed what."""

from datetime import UTC, datetime, timedelta

import streamlit as st

from core.compliance_report import make_report
from core.compliance_report_html import activity_csv, file_name, render_html, section_summaries
from core.errors import SwitchboardError
from pages.common import actor, show_error, workspace

ws, me = workspace(), actor()
st.title("Compliance report")
st.caption(
    "Who changed and who accessed what, privacy requests and their deadlines, retention "
    "runs, consent coverage, the audit chain and where personal data travels. Days are UTC."
)

today = datetime.now(UTC).date()
left, right = st.columns(2)
start = left.date_input("Start date", value=today - timedelta(days=30))
end = right.date_input("End date", value=today)

if st.button("Make the report", type="primary"):
    try:
        report = make_report(ws, me, start, end)
    except SwitchboardError as exc:
        show_error(exc)
    else:
        st.subheader(f"{report.period.label}")
        for title, summary in section_summaries(report):
            st.markdown(f"**{title}:** {summary}")
        if not report.chain.ok:
            st.error("The audit chain is broken: see section 6 of the report.")
        html_file, csv_file = st.columns(2)
        html_file.download_button(
            "Download the report (HTML)",
            render_html(report),
            file_name=file_name(report, "html"),
            mime="text/html",
            on_click="ignore",
        )
        csv_file.download_button(
            "Download changes and accesses (CSV)",
            activity_csv(report),
            file_name=file_name(report, "csv"),
            mime="text/csv",
            on_click="ignore",
        )
        st.caption("Open the HTML file in a browser and print it, or keep it as it is.")
