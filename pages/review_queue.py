"""Review queue: conflicting values of critical fields, for a person to decide."""

import pandas as pd
import streamlit as st

from core.conflicts import list_conflicts, resolve_conflict
from core.errors import SwitchboardError
from core.permissions import Action
from pages.common import actor, flash, local_time, show_error, show_flash, workspace

ws, me = workspace(), actor()
st.title("Review queue")
st.caption(
    "Two systems wrote different values to a field marked critical in the data "
    "dictionary. Newer-write-wins is not applied to these: pick the right value."
)
show_flash()

conflicts = list_conflicts(ws, me)
if not conflicts:
    st.success("Nothing waits for review.")
    st.stop()
personal = sorted({c.field for c in conflicts if c.pii_domain})
if personal:
    masked = sorted({c.field for c in conflicts if c.masked})
    st.caption(
        f"Personal data (PII): {', '.join(personal)}. "
        + (f"Masked for you: {', '.join(masked)}. " if masked else "")
        + "Each view of personal data unmasked is written to the access log."
    )
st.dataframe(
    pd.DataFrame(
        [
            {
                "#": c.id,
                "Record": f"{c.entity} {c.external_key}",
                "Field": c.field,
                "Hub value": c.current_value,
                "From": c.current_source,
                "Changed": local_time(c.current_modified_at),
                "Incoming value": c.incoming_value,
                "Incoming from": c.incoming_source,
                "Incoming changed": local_time(c.incoming_modified_at),
            }
            for c in conflicts
        ]
    ),
    hide_index=True,
    width="stretch",
)
resolvable = [c for c in conflicts if me.may(Action.RESOLVE_CONFLICTS, c.flow_domain)]
if resolvable:
    chosen = st.selectbox(
        "Conflict", resolvable, format_func=lambda c: f"#{c.id} {c.field} of {c.external_key}"
    )
    keep, take = st.columns(2)
    try:
        if keep.button(f"Keep {chosen.current_value!r} ({chosen.current_source})"):
            resolve_conflict(ws, me, chosen.id, take_incoming=False)
            flash(f"Kept the hub's value for conflict #{chosen.id}.")
            st.rerun()
        if take.button(f"Take {chosen.incoming_value!r} ({chosen.incoming_source})"):
            resolve_conflict(ws, me, chosen.id, take_incoming=True)
            flash(f"Took the incoming value for conflict #{chosen.id}.")
            st.rerun()
    except SwitchboardError as exc:
        show_error(exc)
