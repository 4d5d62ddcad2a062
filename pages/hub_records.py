"""Hub records: what the flows landed, by entity and key, with each field's source.

Personal data is masked unless the person may see it in its domain; an unmasked view or
download is written to the access log (by ``core.hub_read``).
"""

import pandas as pd
import streamlit as st

from core.errors import SwitchboardError
from core.hub_read import cell_text, export_csv, hub_entities, list_records
from pages.common import actor, local_time, show_error, workspace

ws, me = workspace(), actor()
st.title("Hub records")
st.caption(
    "Every flow lands its records here, keyed by entity and the source's key. Each field "
    "keeps the system that wrote its current value."
)

entities = hub_entities(ws, me)
if not entities:
    st.info("The hub is empty: records land here when a flow runs (page Integrations).")
    st.stop()
left, right = st.columns([1, 2])
entity = left.selectbox("Entity", entities, key="hub_entity")
search = right.text_input("Search by key", key="hub_search", placeholder="part of a key, e.g. 1001")
try:
    listing = list_records(ws, me, entity, search)
except SwitchboardError as exc:
    show_error(exc)
    st.stop()
if not listing.records:
    st.info(f"No {entity} record has a key containing '{search.strip()}'.")
    st.stop()

if listing.personal:
    masked = ", ".join(listing.masked)
    st.caption(
        f"Personal data (PII): {', '.join(sorted(listing.personal))}. "
        + (f"Masked for you: {masked}. " if masked else "")
        + "Each view or download of personal data unmasked is written to the access log."
    )
names = listing.field_names
st.dataframe(
    pd.DataFrame(
        [{"Key": r.key, **{n: cell_text(r.fields.get(n)) for n in names}} for r in listing.records]
    ),
    hide_index=True,
    width="stretch",
)
shown = len(listing.records)
st.caption(
    f"{shown} record(s)"
    + (f"; the first {shown} shown, search to narrow." if listing.truncated else ".")
)

chosen = st.selectbox(
    "Sources of record", listing.records, format_func=lambda r: r.key, key="hub_record"
)
st.dataframe(
    pd.DataFrame(
        [
            {
                "Field": name,
                "Value": cell_text(chosen.fields.get(name)),
                "Source": held.source,
                "Source's time": local_time(held.modified_at),
                "Personal data": held.pii_domain or "",
            }
            for name, held in sorted(chosen.sources.items())
        ]
    ),
    hide_index=True,
    width="stretch",
)
st.caption(f"Last written to the hub {local_time(chosen.updated_at)}.")

st.download_button(
    "Download CSV",
    data=lambda: export_csv(ws, me, entity, search),
    file_name=f"hub_{entity}.csv",
    mime="text/csv",
    on_click="ignore",
    key="hub_download",
)
