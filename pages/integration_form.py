"""The flow form: systems, method, schedule, connectors and streams, field mapping
(a widget module, not a page)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.connectors.catalog import default_catalog
from core.connectors.registry import DOMAINS, ConnectorView
from core.integrations import (
    CRITICALITIES,
    FREQUENCIES,
    METHODS,
    RUN_BY_WORKER,
    SYNC_MODES,
    WRITE_MODES,
    IntegrationInput,
)
from core.scheduling import WEEKDAYS

NONE = "(none)"


def _index(options: list, value, default: int = 0) -> int:  # noqa: ANN001
    return options.index(value) if value in options else default


def flow_form(
    key: str,
    systems: list,
    connectors: list[ConnectorView],
    flow=None,
    mappings=None,  # noqa: ANN001
    domains: list[str] | None = None,
) -> tuple[IntegrationInput, list[tuple[str, str]]]:
    """Render the form; returns what it holds now (widgets rerun as they change)."""
    catalog = default_catalog()
    system_ids = [s.id for s in systems]
    names = {s.id: s.name for s in systems}
    name = st.text_input("Name", value=flow.name if flow else "", key=f"{key}_name")
    left, right = st.columns(2)
    source = left.selectbox(
        "Source system",
        system_ids,
        format_func=names.get,
        key=f"{key}_source",
        index=_index(system_ids, flow.source_system_id if flow else None),
    )
    destination = right.selectbox(
        "Destination system",
        system_ids,
        format_func=names.get,
        key=f"{key}_destination",
        index=_index(
            system_ids,
            flow.destination_system_id if flow else None,
            1 if len(system_ids) > 1 else 0,
        ),
    )
    data = left.text_input(
        "Data it carries",
        value=flow.data if flow else "",
        key=f"{key}_data",
        placeholder="Contacts, Spend, Form data…",
    )
    methods = list(METHODS)
    method = right.selectbox(
        "Method",
        methods,
        format_func=METHODS.get,
        key=f"{key}_method",
        index=_index(methods, flow.method if flow else "api"),
    )
    frequencies = list(FREQUENCIES)
    frequency = left.selectbox(
        "Frequency",
        frequencies,
        format_func=FREQUENCIES.get,
        key=f"{key}_frequency",
        index=_index(frequencies, flow.frequency if flow else "hourly"),
    )
    every, at_time, weekday = None, "", None
    if frequency == "every_n_minutes":
        every = right.number_input(
            "Every N minutes",
            min_value=1,
            max_value=1440,
            step=1,
            value=(flow.every_minutes if flow and flow.every_minutes else 15),
            key=f"{key}_every",
        )
    if frequency in {"daily", "weekly"}:
        at_time = right.text_input(
            "At time (HH:MM, UTC)", value=(flow.at_time if flow else "") or "06:00", key=f"{key}_at"
        )
    if frequency == "weekly":
        weekday = right.selectbox(
            "Weekday",
            range(7),
            format_func=lambda d: WEEKDAYS[d],
            index=(flow.weekday or 0) if flow else 0,
            key=f"{key}_weekday",
        )
    offered = domains or list(DOMAINS)
    domain = left.selectbox(
        "Domain",
        offered,
        key=f"{key}_domain",
        index=_index(offered, flow.domain if flow else "Marketing"),
        help="Only the domains where you may manage flows are offered.",
    )
    criticality = right.selectbox(
        "Criticality",
        CRITICALITIES,
        key=f"{key}_criticality",
        index=_index(list(CRITICALITIES), flow.criticality if flow else "medium"),
    )
    owner = left.text_input("Owner", value=flow.owner if flow else "", key=f"{key}_owner")
    enabled = right.checkbox("Enabled", value=flow.enabled if flow else True, key=f"{key}_enabled")

    source_connector = source_stream = destination_connector = None
    destination_stream, write_mode, sync_mode = "", "upsert", "incremental_upsert"
    if method in RUN_BY_WORKER:
        st.markdown("**How Switchboard moves it**")
        by_id = {c.id: c for c in connectors}
        ids = [None, *by_id]
        label = lambda i: NONE if i is None else f"{by_id[i].name} ({by_id[i].template_name})"  # noqa: E731
        a, b = st.columns(2)
        source_connector = a.selectbox(
            "Source connector",
            ids,
            format_func=label,
            key=f"{key}_src_conn",
            index=_index(ids, flow.source_connector_id if flow else None),
            help="Leave (none) to register the flow now and connect it later.",
        )
        if source_connector is not None and method != "webhook":
            streams = [s.name for s in catalog.get(by_id[source_connector].template_id).streams]
            source_stream = b.selectbox(
                "Source stream",
                streams,
                key=f"{key}_src_stream",
                index=_index(streams, flow.source_stream if flow else None),
            )
            modes = list(SYNC_MODES)
            sync_mode = a.selectbox(
                "Sync mode",
                modes,
                format_func=SYNC_MODES.get,
                key=f"{key}_sync_mode",
                index=_index(modes, flow.sync_mode if flow else "incremental_upsert"),
            )
        destination_connector = b.selectbox(
            "Destination connector (optional)",
            ids,
            format_func=label,
            key=f"{key}_dst_conn",
            index=_index(ids, flow.destination_connector_id if flow else None),
            help="Besides the hub, push the records to this connector.",
        )
        if destination_connector is not None:
            writable = [
                s.name
                for s in catalog.get(by_id[destination_connector].template_id).streams
                if s.writes
            ]
            destination_stream = a.selectbox(
                "Destination stream",
                writable or [""],
                key=f"{key}_dst_stream",
                index=_index(writable, flow.destination_stream if flow else None),
            )
            modes = list(WRITE_MODES)
            write_mode = b.selectbox(
                "Write mode",
                modes,
                format_func=WRITE_MODES.get,
                key=f"{key}_write_mode",
                index=_index(modes, flow.write_mode if flow else "upsert"),
            )
    st.markdown(
        "**Field mapping** — source field (dotted path, e.g. `properties.email`) → "
        "destination field. Leave empty to carry the record's fields as they are."
    )
    table = st.data_editor(
        pd.DataFrame(mappings or [], columns=["Source field", "Destination field"], dtype="string"),
        num_rows="dynamic",
        key=f"{key}_mapping",
        width="stretch",
        column_config={
            "Source field": st.column_config.TextColumn(required=False),
            "Destination field": st.column_config.TextColumn(required=False),
        },
    )
    rows = [
        ("" if pd.isna(s) else str(s), "" if pd.isna(d) else str(d))
        for s, d in table.itertuples(index=False)
    ]
    description = st.text_area("Notes", value=flow.description if flow else "", key=f"{key}_notes")
    data_in = IntegrationInput(
        name=name,
        source_system_id=source,
        destination_system_id=destination,
        data=data,
        frequency=frequency,
        method=method,
        domain=domain,
        owner=owner,
        criticality=criticality,
        description=description,
        enabled=enabled,
        source_connector_id=source_connector,
        source_stream=source_stream or "",
        destination_connector_id=destination_connector,
        destination_stream=destination_stream or "",
        write_mode=write_mode,
        sync_mode=sync_mode,
        every_minutes=int(every) if every else None,
        at_time=at_time,
        weekday=weekday,
    )
    return data_in, rows
