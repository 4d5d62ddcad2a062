"""The connector form, generated from a template's fields (a widget module, not a page)."""

from __future__ import annotations

import streamlit as st

from core.connectors.registry import DOMAINS, ConnectorInput, ConnectorView
from core.connectors.template import ConnectorTemplate
from core.systems import CATEGORIES


def connector_form(
    template: ConnectorTemplate,
    systems: list,
    key: str,
    existing: ConnectorView | None = None,
    domains: list[str] | None = None,
) -> tuple[ConnectorInput, str | None]:
    """Render the form; returns what was typed and which button was pressed
    (``"test"``, ``"save"`` or None)."""
    values: dict[str, str] = {}
    with st.form(key=f"form_{key}"):
        name = st.text_input(
            "Name",
            value=existing.name if existing else "",
            key=f"{key}_name",
            help="A name your team will recognise, e.g. 'HubSpot – production'.",
        )
        base_url = st.text_input(
            "Base URL",
            value=existing.base_url if existing else template.base_url,
            key=f"{key}_base_url",
            disabled=not template.base_url_editable,
            help=f"The API's address. The vendor's is {template.base_url}.",
        )
        left, right = st.columns(2)
        offered = domains or list(DOMAINS)
        domain = left.selectbox(
            "Domain",
            offered,
            key=f"{key}_domain",
            index=offered.index(existing.domain) if existing and existing.domain in offered else 0,
            help="Only the domains where you may manage connectors are offered.",
        )
        system_names = ["(none)"] + [f"{s.name} ({CATEGORIES[s.category]})" for s in systems]
        current = next(
            (i + 1 for i, s in enumerate(systems) if existing and s.id == existing.system_id), 0
        )
        system_choice = right.selectbox(
            "System it reaches", system_names, index=current, key=f"{key}_system"
        )
        for spec in template.fields:
            label = spec.label + ("" if spec.required else " (optional)")
            widget_key = f"{key}_field_{spec.name}"
            if spec.kind == "secret":
                hint = existing.secret_hints.get(spec.name) if existing else None
                help_text = spec.help + (
                    f" Stored: {hint} — leave blank to keep it." if hint else ""
                )
                values[spec.name] = st.text_input(
                    label,
                    type="password",
                    key=widget_key,
                    help=help_text.strip() or None,
                    placeholder=spec.placeholder or None,
                )
            elif spec.kind == "select":
                stored = existing.values.get(spec.name) if existing else spec.default
                index = spec.options.index(stored) if stored in spec.options else 0
                values[spec.name] = st.selectbox(
                    label, spec.options, index=index, key=widget_key, help=spec.help or None
                )
            elif spec.kind == "textarea":
                values[spec.name] = st.text_area(
                    label,
                    value=existing.values.get(spec.name, "") if existing else spec.default,
                    key=widget_key,
                    help=spec.help or None,
                )
            else:
                values[spec.name] = st.text_input(
                    label,
                    value=existing.values.get(spec.name, "") if existing else spec.default,
                    key=widget_key,
                    help=spec.help or None,
                    placeholder=spec.placeholder or None,
                )
        buttons = st.columns(2)
        test = buttons[0].form_submit_button("Test connection")
        save = buttons[1].form_submit_button(
            "Save" if existing is None else "Save changes", type="primary"
        )
    system_id = (
        systems[system_names.index(system_choice) - 1].id if system_choice != "(none)" else None
    )
    data = ConnectorInput(
        name=name,
        template_id=template.id,
        base_url=base_url or template.base_url,
        values=values,
        domain=domain,
        system_id=system_id,
    )
    return data, "test" if test else "save" if save else None


def show_verdict(verdict) -> None:  # noqa: ANN001  (a ConnectionVerdict)
    """Test connection's answer: green with latency, or red with whose problem and the fix."""
    if verdict.ok:
        st.success(verdict.verdict)
        return
    whose = f" — a {verdict.whose} problem" if verdict.whose else ""
    status = f"HTTP {verdict.status}" if verdict.status else "no HTTP answer"
    st.error(f"**Connection failed** ({status}{whose}). {verdict.verdict}\n\n{verdict.fix}")
