"""A flow's consent settings (a section of the Integrations page, not a page): which source
field says whether a person consented to each purpose, and the purpose the flow's records
must hold to pass. ``core.consent`` validates and checks the role again on saving."""

from __future__ import annotations

import streamlit as st

from core.consent import DEFAULT_GRANTED, flow_consent, set_flow_consent
from core.errors import SwitchboardError
from core.permissions import Action, Actor
from core.sync.gate import PURPOSES
from core.workspace import Workspace
from pages.common import flash, show_error

NO_PURPOSE = "None: every record passes"


def consent_section(ws: Workspace, me: Actor, flow_id: int) -> None:
    """Render the consent settings of one flow, editable by editors of its domain."""
    current = flow_consent(ws, me, flow_id)
    editable = me.may(Action.MANAGE_INTEGRATIONS, current.domain)
    with st.expander("Consent", expanded=bool(current.carries or current.required_purpose)):
        st.caption(
            "Where the source's records say whether the person agreed to each purpose (leave "
            "a field empty when this flow does not carry it). Consent carried is recorded per "
            "person; with a required purpose, only people who gave it pass, the others are "
            "counted on the run."
        )
        with st.form(f"consent_{flow_id}"):
            carries = {}
            for purpose, label in PURPOSES.items():
                setting = current.carries.get(purpose)
                left, right = st.columns(2)
                field = left.text_input(
                    f"{label} field",
                    value=setting.field if setting else "",
                    key=f"consent_{flow_id}_{purpose}_field",
                    placeholder="status",
                    disabled=not editable,
                )
                granted = right.text_input(
                    f"{label}: values meaning yes",
                    value=", ".join(setting.granted) if setting else "",
                    key=f"consent_{flow_id}_{purpose}_granted",
                    placeholder="subscribed",
                    help=f"Separated by commas. Empty: {', '.join(DEFAULT_GRANTED)}.",
                    disabled=not editable,
                )
                if field.strip() or granted.strip():
                    carries[purpose] = {"field": field, "granted": granted}
            options = ["", *PURPOSES]
            required = st.selectbox(
                "Required purpose",
                options,
                index=options.index(current.required_purpose)
                if current.required_purpose in options
                else 0,
                format_func=lambda p: PURPOSES.get(p, NO_PURPOSE),
                key=f"consent_{flow_id}_required",
                disabled=not editable,
            )
            if st.form_submit_button(
                "Save consent settings", disabled=not editable, key=f"consent_{flow_id}_save"
            ):
                try:
                    set_flow_consent(ws, me, flow_id, carries, required)
                except SwitchboardError as exc:
                    show_error(exc)
                else:
                    flash(f"Saved the consent settings of {current.name}.")
                    st.rerun()
        if not editable:
            st.caption(f"Only editors of {current.domain} may change these settings.")
