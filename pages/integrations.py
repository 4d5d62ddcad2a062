"""Integrations: describe flows, map their fields, preview, enable, run now, delete."""

import pandas as pd
import streamlit as st

from core.connectors.registry import list_connectors
from core.dictionary import mapping_warnings
from core.errors import SwitchboardError
from core.integrations import (
    create_integration,
    delete_integration,
    get_integration,
    list_integrations,
    set_enabled,
    update_integration,
)
from core.permissions import Action
from core.runs import request_run
from core.sync.preview import preview_flow
from core.systems import list_systems
from pages.common import actor, domain_choices, flash, gateway, show_error, show_flash, workspace
from pages.flow_consent import consent_section
from pages.integration_form import flow_form

ws, me = workspace(), actor()
st.title("Integrations")
show_flash()

flows = list_integrations(ws, me)
st.dataframe(
    pd.DataFrame(
        [
            {
                "Flow": f.name,
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
        ],
        columns=[
            "Flow",
            "Source",
            "Destination",
            "Data",
            "Frequency",
            "Method",
            "Domain",
            "Criticality",
            "Enabled",
        ],
    ),
    hide_index=True,
    width="stretch",
)
if not me.may(Action.MANAGE_INTEGRATIONS):
    st.caption("Your role can look but not change flows.")
    st.stop()

systems, connectors = list_systems(ws, me), list_connectors(ws, me)
if len(systems) < 2:
    st.info("Register at least two systems first (page Systems).")
    st.stop()


def show_warnings(data, mappings) -> None:  # noqa: ANN001
    """The data dictionary's word on the mapping: type mismatches, PII to uncleared systems."""
    for warning in mapping_warnings(
        ws,
        data.source_system_id,
        data.destination_system_id,
        [m for m in mappings if m[0] and m[1]],
    ):
        st.warning(warning)


def show_preview(data, mappings) -> None:  # noqa: ANN001
    rows = preview_flow(ws, me, gateway(), data, mappings)
    if not rows:
        st.info("The source answered with no records.")
        return
    counts = {c: sum(r.change == c for r in rows) for c in ("new", "changed", "unchanged")}
    st.caption(
        f"First {len(rows)} records: {counts['new']} new, {counts['changed']} changed, "
        f"{counts['unchanged']} unchanged in the hub. Personal data is masked unless you "
        "may see it in its domain; an unmasked preview is written to the access log."
    )
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "Key": r.key,
                    "Change": r.change,
                    "Changed fields": ", ".join(r.changed_fields),
                    **r.fields,
                }
                for r in rows
            ]
        ),
        hide_index=True,
        width="stretch",
    )


add, edit = st.tabs(["Add a flow", "Edit a flow"])
with add:
    data, mappings = flow_form(
        "new", systems, connectors, domains=domain_choices(me, Action.MANAGE_INTEGRATIONS)
    )
    show_warnings(data, mappings)
    left, right = st.columns(2)
    try:
        if left.button("Preview", key="new_preview"):
            show_preview(data, mappings)
        if right.button("Save flow", type="primary", key="new_save"):
            create_integration(ws, me, data, mappings)
            flash(f"Saved flow {data.name.strip()}.")
            st.rerun()
    except SwitchboardError as exc:
        show_error(exc)

with edit:
    if not flows:
        st.info("No flow yet.")
        st.stop()
    chosen = st.selectbox("Flow", flows, format_func=lambda f: f.name, key="edit_pick")
    detail = get_integration(ws, me, chosen.id)
    data, mappings = flow_form(
        f"edit_{chosen.id}",
        systems,
        connectors,
        detail.flow,
        detail.mappings,
        domains=domain_choices(me, Action.MANAGE_INTEGRATIONS, detail.flow.domain),
    )
    buttons = st.columns(4)
    try:
        if buttons[0].button("Preview", key="edit_preview"):
            show_preview(data, mappings)
        if buttons[1].button("Save changes", type="primary", key="edit_save"):
            update_integration(ws, me, chosen.id, data, mappings)
            flash(f"Saved changes to {data.name.strip()}.")
            st.rerun()
        toggle = "Disable" if detail.flow.enabled else "Enable"
        if buttons[2].button(toggle, key="edit_toggle"):
            set_enabled(ws, me, chosen.id, not detail.flow.enabled)
            flash(f"{toggle}d {chosen.name}.")
            st.rerun()
        if buttons[3].button("Run now", key="edit_run"):
            run = request_run(ws, me, chosen.id)
            flash(f"Run #{run.id} of {chosen.name} is {run.status}; follow it on the Runs page.")
            st.rerun()
    except SwitchboardError as exc:
        show_error(exc)
    consent_section(ws, me, chosen.id)
    with st.expander("Delete this flow"):
        sure = st.checkbox(
            f"Yes, delete {chosen.name}, its mapping and its run history", key="del_flow_sure"
        )
        if st.button("Delete flow", disabled=not sure, key="del_flow"):
            try:
                delete_integration(ws, me, chosen.id)
                flash(f"Deleted flow {chosen.name}.")
                st.rerun()
            except SwitchboardError as exc:
                show_error(exc)
