"""Overview: is the worker up, and what is registered."""

import pandas as pd
import streamlit as st

from core.heartbeats import worker_status
from core.integrations import list_integrations
from pages.common import actor, local_time, workspace

ws, me = workspace(), actor()
st.title("Overview")

status = worker_status(ws)
(st.success if status.up else st.warning)(status.text)
if status.last_seen_at:
    st.caption(f"Last heartbeat: {local_time(status.last_seen_at)}")

flows = list_integrations(ws, me)
st.subheader(f"Flows ({len(flows)})")
if flows:
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "Source": f.source,
                    "Destination": f.destination,
                    "Data": f.data,
                    "Frequency": f.frequency,
                    "Method": f.method,
                    "Domain": f.domain,
                    "Criticality": f.criticality,
                    "Enabled": f.enabled,
                }
                for f in flows
            ]
        ),
        hide_index=True,
        width="stretch",
    )
else:
    st.info("No flows registered yet.")
