"""Data dictionary: every field of every system — edit in place, history, lineage, CSV."""

import pandas as pd
import streamlit as st

from core.connectors.registry import DOMAINS
from core.dictionary import (
    COLUMNS,
    DATA_TYPES,
    edit_from_editor,
    field_history,
    list_fields,
    recent_changes,
    revert_change,
    save_edit,
)
from core.dictionary_csv import export_csv, import_csv, preview_import
from core.errors import SwitchboardError
from core.lineage import field_lineage, lineage_dot, lineage_rows
from core.permissions import Action
from core.systems import list_systems
from pages.common import actor, flash, local_time, show_error, show_flash, workspace

ws, me = workspace(), actor()
st.title("Data dictionary")
st.caption("One place that says what every field of every system is, and which flows carry it.")
show_flash()
editable = me.may(Action.EDIT_DICTIONARY)
fields = list_fields(ws, me)
# a save starts a fresh grid and uploader (their keys carry a generation number)
generation = st.session_state.setdefault("dictionary_generation", 0)


def saved(message: str) -> None:
    flash(message)
    st.session_state["dictionary_generation"] = generation + 1
    st.rerun()


grid_tab, history_tab, lineage_tab, csv_tab = st.tabs(
    ["Fields", "History", "Lineage", "Import / export"]
)

with grid_tab:
    systems = [s.name for s in list_systems(ws, me)]
    grid = pd.DataFrame(
        [{COLUMNS[a]: f.values[a] for a in COLUMNS} for f in fields], columns=list(COLUMNS.values())
    )
    text = st.column_config.TextColumn
    st.data_editor(
        grid,
        key=f"dictionary_grid_{generation}",
        num_rows="dynamic" if editable else "fixed",
        disabled=not editable,
        hide_index=True,
        width="stretch",
        column_config={
            "Name": text(help="The field's key in the system's records, e.g. lead_score"),
            "System": st.column_config.SelectboxColumn(options=systems),
            "Type": st.column_config.SelectboxColumn(options=list(DATA_TYPES)),
            "Allowed values": text(help="Enum only: the values, comma-separated"),
            "Pattern": text(help="Optional regular expression every value must match"),
            "Domain": st.column_config.SelectboxColumn(options=list(DOMAINS)),
            "Required": st.column_config.CheckboxColumn(),
            "PII": st.column_config.CheckboxColumn(help="Personal data"),
            "Critical": st.column_config.CheckboxColumn(help="Conflicts wait for a person"),
        },
    )
    if editable and st.button("Save changes", type="primary", key="dictionary_save"):
        state = st.session_state.get(f"dictionary_grid_{generation}") or {}
        try:
            result = save_edit(ws, me, edit_from_editor([f.id for f in fields], state))
            saved(f"Saved the data dictionary: {result}.")
        except SwitchboardError as exc:
            show_error(exc)

with history_tab:
    labels = {f.id: f.label for f in fields}
    chosen = st.selectbox(
        "Field",
        [None, *labels],
        format_func=lambda i: "All recent changes" if i is None else labels[i],
        key="history_field",
    )
    changes = recent_changes(ws, me) if chosen is None else field_history(ws, me, chosen)
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "Change": c.id,
                    "Field": f"{c.system_name}.{c.field_name}",
                    "Version": c.version,
                    "When": local_time(c.at),
                    "Who": c.actor,
                    "What": c.action,
                    "Old → new": "; ".join(f"{k}: {o!r} → {n!r}" for k, o, n in c.changes),
                }
                for c in changes
            ],
            columns=["Change", "Field", "Version", "When", "Who", "What", "Old → new"],
        ),
        hide_index=True,
        width="stretch",
    )
    if editable and changes:
        change_by_id = {c.id: c for c in changes}
        target = st.selectbox(
            "Change to revert",
            list(change_by_id),
            format_func=lambda i: (
                f"#{i} {change_by_id[i].action} {change_by_id[i].system_name}."
                f"{change_by_id[i].field_name} (version {change_by_id[i].version}, {change_by_id[i].actor})"
            ),
            key="revert_pick",
        )
        if st.button("Revert this change", key="revert_button"):
            try:
                saved(revert_change(ws, me, target))
            except SwitchboardError as exc:
                show_error(exc)

with lineage_tab:
    if not fields:
        st.info("No field yet: add fields on the Fields tab.")
    else:
        field_by_id = {f.id: f for f in fields}
        picked = st.selectbox(
            "Field",
            list(field_by_id),
            format_func=lambda i: field_by_id[i].label,
            key="lineage_field",
        )
        lineage = field_lineage(ws, me, picked)
        st.markdown(f"**{lineage.name}** is in: {', '.join(lineage.systems)}.")
        if lineage.hops:
            st.graphviz_chart(lineage_dot(lineage))
            st.dataframe(pd.DataFrame(lineage_rows(lineage)), hide_index=True, width="stretch")
        else:
            st.info(f"No flow maps {lineage.name} yet: it stays in {lineage.system}.")

with csv_tab:
    st.download_button(
        "Download the dictionary (CSV)",
        data=lambda: export_csv(fields),
        file_name="data_dictionary.csv",
        mime="text/csv",
        key="dictionary_export",
    )
    if editable:
        st.caption(
            "Import a CSV with a header row: " + ", ".join(COLUMNS.values()) + " (Name, System "
            "and Type are required). Rows for an existing field update it. Nothing is written "
            "until every row is valid."
        )
        upload = st.file_uploader(
            "CSV file", type=["csv", "txt"], key=f"dictionary_csv_{generation}"
        )
        if upload is not None:
            data = upload.getvalue()
            try:
                preview = preview_import(ws, me, data)
            except SwitchboardError as exc:
                show_error(exc)
                preview = None
            if preview is not None:
                counts = preview.counts()
                st.markdown(
                    f"**Preview:** {counts['add']} to add, {counts['update']} to update, "
                    f"{counts['unchanged']} unchanged."
                )
                if preview.ignored_columns:
                    st.warning("Ignored columns: " + ", ".join(preview.ignored_columns))
                if preview.problems:
                    st.error(
                        f"Nothing can be imported until these {len(preview.problems)} "
                        "problem(s) are fixed in the file:"
                    )
                    st.dataframe(
                        pd.DataFrame([vars(p) for p in preview.problems]).rename(
                            columns={"row": "Row", "column": "Column", "message": "Problem"}
                        ),
                        hide_index=True,
                        width="stretch",
                    )
                st.dataframe(pd.DataFrame(preview.rows), hide_index=True, width="stretch")
                if preview.ok and st.button("Import", type="primary", key="dictionary_import"):
                    try:
                        saved(f"Imported the CSV: {import_csv(ws, me, data)}.")
                    except SwitchboardError as exc:
                        show_error(exc)
