"""Systems: the CRM, MAP, analytics, ads, warehouse, website and billing systems you run."""

import pandas as pd
import streamlit as st

from core.errors import SwitchboardError
from core.permissions import Action
from core.systems import CATEGORIES, SystemInput, create_system, delete_system, list_systems
from pages.common import actor, domain_choices, flash, show_error, show_flash, workspace

ws, me = workspace(), actor()
st.title("Systems")
show_flash()

systems = list_systems(ws, me)
st.dataframe(
    pd.DataFrame(
        [
            {
                "Name": s.name,
                "Category": CATEGORIES.get(s.category, s.category),
                "Vendor": s.vendor,
                "Domain": s.domain,
                "Cleared for personal data": s.pii_cleared,
                "Description": s.description,
            }
            for s in systems
        ],
        columns=[
            "Name",
            "Category",
            "Vendor",
            "Domain",
            "Cleared for personal data",
            "Description",
        ],
    ),
    hide_index=True,
    width="stretch",
)

if not me.may(Action.MANAGE_SYSTEMS):
    st.stop()

with st.form("new_system", clear_on_submit=False):
    st.subheader("Add a system")
    name = st.text_input("Name")
    left, right = st.columns(2)
    category = left.selectbox("Category", list(CATEGORIES), format_func=CATEGORIES.get)
    domain = right.selectbox(
        "Domain",
        domain_choices(me, Action.MANAGE_SYSTEMS),
        help="Only the domains where you may manage systems are offered.",
    )
    vendor = st.text_input("Vendor or product")
    description = st.text_area("Description")
    pii = st.checkbox("Cleared to receive personal data (PII)")
    if st.form_submit_button("Add system", type="primary"):
        try:
            create_system(ws, me, SystemInput(name, category, vendor, domain, description, pii))
            flash(f"Added system {name.strip()}.")
            st.rerun()
        except SwitchboardError as exc:
            show_error(exc)

if systems:
    with st.expander("Delete a system"):
        victim = st.selectbox("System", systems, format_func=lambda s: s.name)
        if st.button("Delete system"):
            try:
                delete_system(ws, me, victim.id)
                flash(f"Deleted system {victim.name}.")
                st.rerun()
            except SwitchboardError as exc:
                show_error(exc)
