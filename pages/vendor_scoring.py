"""Vendor scoring: the weighted iPaaS worksheet (SPEC §5) — set up, score, compare, decide."""

from collections.abc import Callable

import streamlit as st

from core import vendor_scoring as vs
from core.errors import SwitchboardError
from core.permissions import Action
from core.vendor_scoring_charts import category_bars, category_radar
from core.vendor_scoring_export import file_stem, scores_csv, summary_csv, workbook
from core.vendor_scoring_sensitivity import sensitivity
from core.vendor_scoring_sheet import score
from core.vendor_scoring_tables import disagreements_frame, missing_frame, ranking_frame
from pages.common import actor, flash, local_time, show_error, show_flash, workspace

ws, me = workspace(), actor()
manage = me.may(Action.MANAGE_EVALUATIONS)
st.title("Vendor scoring")
show_flash()


def attempt(done: str, call: Callable[..., object], *args: object) -> None:
    """Hand an edit to core: a plain message on refusal, a flash and a rerun on success."""
    try:
        made = call(ws, me, *args)
    except SwitchboardError as exc:
        show_error(exc)
    else:
        if isinstance(made, vs.EvaluationSummary):  # show the one just made or changed
            st.session_state["sb_evaluation_next"] = made.id
        flash(done)
        st.rerun()


if manage:
    with st.expander("Start an evaluation"), st.form("new_evaluation"):
        name = st.text_input("Evaluation name", placeholder="2027 iPaaS selection")
        purpose = st.text_area(
            "Purpose (optional)", placeholder="What the team is choosing and why"
        )
        if st.form_submit_button("Start from the iPaaS template", type="primary"):
            attempt(f"Started {name.strip()}.", vs.create_evaluation, name, purpose)

evaluations = {e.id: e for e in vs.list_evaluations(ws, me)}
if not evaluations:
    st.info("No evaluation yet." + (" Start one above." if manage else ""))
    st.stop()
if st.session_state.get("sb_evaluation_next") in evaluations:
    st.session_state["evaluation_pick"] = st.session_state.pop("sb_evaluation_next")
picked = st.selectbox(
    "Evaluation",
    list(evaluations),
    format_func=lambda i: evaluations[i].name + (" 🔒" if evaluations[i].locked else ""),
    key="evaluation_pick",
)
w = vs.load_worksheet(ws, me, picked)
ev, sheet = w.evaluation, w.sheet
results, verdict = score(sheet), sensitivity(sheet)
if ev.locked:
    st.info(
        f"Final: locked by {ev.locked_by} on {local_time(ev.locked_at)}. "
        "Duplicate it to change anything.",
        icon=":material/lock:",
    )
st.caption(
    f"Started by {ev.created_by} on {local_time(ev.created_at)}"
    + (f", copied from {ev.copied_from}" if ev.copied_from else "")
    + f" · evaluators: {', '.join(w.people.values()) or 'none yet'}"
)
results_tab, score_tab, setup_tab, share_tab = st.tabs(
    ["Results", "My scores", "Set up", "Share and lock"]
)

with results_tab:
    if sheet.vendors and not results.complete:
        st.warning(f"Totals are provisional: {len(results.missing)} score(s) still missing.")
        st.dataframe(missing_frame(results, w.people), hide_index=True)
    st.dataframe(ranking_frame(sheet, results).round(1), hide_index=True, width="stretch")
    left, right = st.columns(2)
    left.plotly_chart(category_bars(sheet, results), key="bars")
    right.plotly_chart(category_radar(sheet, results), key="radar")
    provisional = "" if results.complete else " (on provisional totals)"
    show = {True: st.success, False: st.warning}.get(verdict.robust, st.info)
    show(f"Sensitivity{provisional}: {verdict.verdict}")
    st.caption("Where evaluators disagree — scores 2 or more points apart:")
    st.dataframe(disagreements_frame(results, w.people), hide_index=True, width="stretch")
    st.page_link(
        "pages/vendor_scoring_print.py",
        label="Full results and print view",
        icon=":material/print:",
        query_params={"evaluation": ev.id},
    )

with score_tab:
    if ev.locked or not w.is_evaluator(me.username) or not sheet.vendors:
        st.info(
            "The scores are final."
            if ev.locked
            else "No vendor to score yet."
            if w.is_evaluator(me.username)
            else "You are not an evaluator here; ask the person running it to invite you."
        )
    else:
        vendor = st.selectbox("Vendor", sheet.vendors, key=f"score_vendor_{ev.id}")
        mine = w.own_scores(me.username, vendor)
        with st.form(f"scores_{ev.id}_{vendor}"):
            st.caption("Score 1 (poor) to 5 (excellent); leave a box empty to score later.")
            entries = {}
            for cat, crit in sheet.criteria:
                given, said = mine.get(crit.name, (None, ""))
                left, right = st.columns([2, 3])
                entries[crit.name] = (
                    left.number_input(
                        f"{cat.name} · {crit.name}",
                        value=None if given is None else float(given),
                        step=1.0,
                        format="%g",
                        key=f"score_{ev.id}_{vendor}_{crit.name}",
                    ),
                    right.text_input(
                        f"Comment on {crit.name}",
                        value=said,
                        key=f"comment_{ev.id}_{vendor}_{crit.name}",
                    ),
                )
            if st.form_submit_button("Save my scores", type="primary"):
                attempt(f"Saved your scores of {vendor}.", vs.save_scores, ev.id, vendor, entries)

with setup_tab:
    if ev.locked or not manage:
        st.info("Editors and admins set up evaluations that are not locked.")
    else:
        with st.form(f"weights_{ev.id}"):
            st.caption("Categories total 100%; the criteria of each category total 100% of it.")
            cat_w, crit_w = {}, {}
            for cat in sheet.categories:
                cols = st.columns(len(cat.criteria) + 1)
                cat_w[cat.name] = cols[0].number_input(
                    f"{cat.name} % of total",
                    value=cat.weight,
                    key=f"w_{ev.id}_{cat.name}_{cat.weight:.4f}",
                )
                for col, crit in zip(cols[1:], cat.criteria, strict=True):
                    crit_w[crit.name] = col.number_input(
                        f"{crit.name} % of {cat.name}",
                        value=crit.weight,
                        key=f"w_{ev.id}_{crit.name}_{crit.weight:.4f}",
                    )
            if st.form_submit_button("Save weights", type="primary"):
                attempt("Saved the weights.", vs.set_weights, ev.id, cat_w, crit_w)
        with st.form(f"criterion_{ev.id}", clear_on_submit=True):
            cat_name = st.selectbox("Category", [c.name for c in sheet.categories])
            crit_name = st.text_input("Criterion name")
            if st.form_submit_button("Add criterion"):
                attempt(f"Added {crit_name.strip()}.", vs.add_criterion, ev.id, cat_name, crit_name)
        with st.form(f"vendor_{ev.id}", clear_on_submit=True):
            vendor_name = st.text_input("Vendor name", placeholder="e.g. Workato")
            if st.form_submit_button("Add vendor"):
                attempt(f"Added {vendor_name.strip()}.", vs.add_vendor, ev.id, vendor_name)
        people = vs.list_people(ws, me)
        chosen = st.multiselect(
            "Evaluators", list(people), default=list(sheet.evaluators), format_func=people.get
        )
        if st.button("Save evaluators"):
            attempt("Saved the evaluators.", vs.set_evaluators, ev.id, chosen)
        with st.expander("Remove a criterion or a vendor (their scores go too)"):
            gone = st.selectbox(
                "Criterion or vendor", [c.name for _, c in sheet.criteria] + list(sheet.vendors)
            )
            if st.button("Remove", key="remove") and gone:
                call = vs.remove_vendor if gone in sheet.vendors else vs.remove_criterion
                attempt(f"Removed {gone}.", call, ev.id, gone)

with share_tab:
    stem = file_stem(w)
    st.download_button("Summary (CSV)", summary_csv(w, results), f"{stem}-summary.csv", "text/csv")
    st.download_button("Every score (CSV)", scores_csv(w), f"{stem}-scores.csv", "text/csv")
    st.download_button(
        "Workbook (Excel)",
        workbook(w, results, verdict),
        f"{stem}.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    if manage:
        with st.form(f"duplicate_{ev.id}"):
            copy_name = st.text_input("Name of the copy", value=f"{ev.name} (copy)")
            with_scores = st.checkbox("Copy the scores too")
            if st.form_submit_button("Duplicate"):
                attempt(
                    f"Duplicated as {copy_name.strip()}.",
                    vs.duplicate_evaluation,
                    ev.id,
                    copy_name,
                    with_scores,
                )
    if manage and not ev.locked:
        sure = st.checkbox(f"Yes, make {ev.name} final; nobody can change it afterwards")
        if st.button("Lock evaluation", disabled=not sure):
            attempt(f"Locked {ev.name}.", vs.lock_evaluation, ev.id)
