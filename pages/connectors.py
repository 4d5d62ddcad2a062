"""Connectors: pick a template, fill in the credentials, test, save, edit, delete."""

import pandas as pd
import streamlit as st

from core.call_log import quota_use_today
from core.connectors.catalog import default_catalog
from core.connectors.connection_test import check_draft_connector
from core.connectors.registry import (
    create_connector,
    delete_connector,
    list_connectors,
    update_connector,
)
from core.errors import SwitchboardError
from core.permissions import Action
from core.systems import list_systems
from pages.common import (
    actor,
    domain_choices,
    flash,
    gateway,
    local_time,
    show_error,
    show_flash,
    workspace,
)
from pages.connector_form import connector_form, show_verdict

ws, me = workspace(), actor()
catalog = default_catalog()
st.title("Connectors")
show_flash()

connectors = list_connectors(ws, me)
usage = quota_use_today(ws, me)
if connectors:
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "Name": c.name,
                    "Template": c.template_name,
                    "System": c.system_name or "—",
                    "Domain": c.domain,
                    "Base URL": c.base_url,
                    "API calls today": usage.get(c.id, "0"),
                    "Secrets": ", ".join(f"{k} {v}" for k, v in c.secret_hints.items()) or "—",
                    "Last test": (
                        "—"
                        if c.last_test_ok is None
                        else ("✅ " if c.last_test_ok else "❌ ") + local_time(c.last_test_at)
                    ),
                }
                for c in connectors
            ]
        ),
        hide_index=True,
        width="stretch",
    )
else:
    st.info("No connector yet.")

if not me.may(Action.MANAGE_CONNECTORS):
    st.caption("Your role can look but not change connectors.")
    st.stop()

systems = list_systems(ws, me)
add_tab, edit_tab = st.tabs(["Add a connector", "Edit or delete"])

with add_tab:
    templates = list(catalog)
    chosen = st.selectbox(
        "Template", templates, format_func=lambda t: f"{t.name} — {t.category}", key="new_template"
    )
    st.caption(
        chosen.description + (f" [API documentation]({chosen.docs_url})" if chosen.docs_url else "")
    )
    data, pressed = connector_form(
        chosen,
        systems,
        key=f"new_{chosen.id}",
        domains=domain_choices(me, Action.MANAGE_CONNECTORS),
    )
    try:
        if pressed == "test":
            show_verdict(check_draft_connector(ws, me, gateway(), data))
        elif pressed == "save":
            saved = create_connector(ws, me, data)
            flash(f"Saved connector {saved.name}.")
            st.rerun()
    except SwitchboardError as exc:
        show_error(exc)

with edit_tab:
    if not connectors:
        st.info("Nothing to edit yet.")
        st.stop()
    current = st.selectbox("Connector", connectors, format_func=lambda c: c.name, key="edit_pick")
    data, pressed = connector_form(
        catalog.get(current.template_id),
        systems,
        key=f"edit_{current.id}",
        existing=current,
        domains=domain_choices(me, Action.MANAGE_CONNECTORS, current.domain),
    )
    try:
        if pressed == "test":
            show_verdict(check_draft_connector(ws, me, gateway(), data, current.id))
        elif pressed == "save":
            update_connector(ws, me, current.id, data)
            flash(f"Saved changes to {data.name}.")
            st.rerun()
    except SwitchboardError as exc:
        show_error(exc)
    with st.expander("Delete this connector"):
        sure = st.checkbox(f"Yes, delete {current.name} and its stored credentials", key="del_sure")
        if st.button("Delete", disabled=not sure, key="del_button"):
            try:
                delete_connector(ws, me, current.id)
                flash(f"Deleted connector {current.name}.")
                st.rerun()
            except SwitchboardError as exc:
                show_error(exc)
