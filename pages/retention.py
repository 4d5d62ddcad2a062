"""Retention: how long each domain keeps its data, what a run would remove, what runs removed.

A domain lead sees and sets the policies of the domains they lead; only an admin sets the
audit trail's. The worker applies the enabled policies once a day; "Apply now" does it at
once. ``core.retention`` checks every change.
"""

import pandas as pd
import streamlit as st

from core.errors import SwitchboardError
from core.permissions import Action, Role
from core.retention import (
    ALL_DOMAINS,
    AUDIT_MINIMUM_DAYS,
    MAX_KEEP_DAYS,
    PolicyInput,
    delete_policy,
    hub_entities,
    list_policies,
    preview,
    set_policy,
)
from core.retention_runs import apply, list_runs
from core.retention_targets import KINDS
from pages.common import actor, flash, local_time, show_error, show_flash, workspace

ws, me = workspace(), actor()
st.title("Retention")
st.caption(
    "Rows older than a policy's days are removed by the worker once a day (UTC). Hub records "
    "belong to the domain of the flow that last wrote them; records no flow wrote, to Marketing."
)
show_flash()


def _try(action, done: str) -> None:
    try:
        action()
    except SwitchboardError as exc:
        show_error(exc)
    else:
        flash(done)
        st.rerun()


def _what(kind: str, entity: str) -> str:
    return f"Hub records: {entity}" if kind == "hub_records" else KINDS[kind]


def _confirm(name: str, question: str, yes_label: str) -> bool:
    """A second click before anything is deleted for good."""
    if st.session_state.get(f"sb_confirm_{name}") is None:
        return False
    st.warning(question)
    yes, no = st.columns(2)
    if no.button("Cancel", key=f"cancel_{name}"):
        st.session_state.pop(f"sb_confirm_{name}")
        st.rerun()
    if yes.button(yes_label, key=f"confirm_{name}", type="primary"):
        st.session_state.pop(f"sb_confirm_{name}")
        return True
    return False


st.subheader("Policies")
policies = list_policies(ws, me)
if not policies:
    st.info("No policy yet: nothing is removed. Add one below.")
else:
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "Domain": p.domain,
                    "Data": _what(p.kind, p.entity),
                    "Keep days": p.keep_days,
                    "Enabled": p.enabled,
                    "Changed by": p.updated_by,
                    "Changed": local_time(p.updated_at),
                }
                for p in policies
            ]
        ),
        hide_index=True,
        width="stretch",
    )
    labels = {p.id: f"{p.domain} · {_what(p.kind, p.entity)}" for p in policies}
    chosen = st.selectbox("Policy", list(labels), format_func=labels.get, key="policy")
    policy = next(p for p in policies if p.id == chosen)
    with st.form(f"edit_policy_{policy.id}"):
        keep = st.number_input("Keep days", 1, MAX_KEEP_DAYS, policy.keep_days, step=1)
        enabled = st.checkbox("Enabled", value=policy.enabled)
        if st.form_submit_button("Save policy"):
            data = PolicyInput(policy.domain, policy.kind, int(keep), policy.entity, enabled)
            _try(lambda: set_policy(ws, me, data), f"Saved the policy for {labels[chosen]}.")
    if st.button("Delete policy", key="delete_policy"):
        st.session_state[f"sb_confirm_delete_{chosen}"] = True
    if _confirm(f"delete_{chosen}", f"Delete the policy for {labels[chosen]}?", "Yes, delete"):
        _try(lambda: delete_policy(ws, me, chosen), f"Deleted the policy for {labels[chosen]}.")

st.subheader("Add a policy")
kinds = [k for k in KINDS if k != "audit_entries" or me.role is Role.ADMIN]
kind = st.selectbox("Kind", kinds, format_func=KINDS.get, key="new_kind")
entity = ""
if kind == "audit_entries":
    domain = ALL_DOMAINS
    st.caption(f"Audit entries are the whole workspace's; the law wants {AUDIT_MINIMUM_DAYS} days.")
else:
    domain = st.selectbox("Domain", me.domains_where(Action.MANAGE_RETENTION), key="new_domain")
if kind == "hub_records":
    known = ", ".join(hub_entities(ws, me)) or "none yet"
    entity = st.text_input("Entity", key="new_entity", help=f"In the hub: {known}.")
keep_days = st.number_input("Keep days", 1, MAX_KEEP_DAYS, 365, step=1, key="new_keep_days")
if st.button("Add policy", type="primary"):
    data = PolicyInput(domain, kind, int(keep_days), entity)
    _try(lambda: set_policy(ws, me, data), f"Added the policy for {domain}: {KINDS[kind]}.")

st.subheader("Preview and apply")
left, right = st.columns(2)
if left.button("Preview", key="preview"):
    rows = preview(ws, me)
    if not rows:
        st.info("No enabled policy: a run would remove nothing.")
    else:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "Domain": r.domain,
                        "Data": _what(r.kind, r.entity),
                        "Keep days": r.keep_days,
                        "Removes what is older than": local_time(r.cutoff),
                        "Rows to remove": r.count,
                        "For example": ", ".join(r.examples),
                    }
                    for r in rows
                ]
            ),
            hide_index=True,
            width="stretch",
        )
if right.button("Apply now", key="apply"):
    st.session_state["sb_confirm_apply"] = True
if _confirm(
    "apply",
    "Apply every enabled policy of your domains now? What is past its cutoff is deleted for good.",
    "Yes, apply now",
):
    try:
        run = apply(ws, me)
    except SwitchboardError as exc:
        show_error(exc)
    else:
        if run.status == "succeeded":
            flash(f"Run #{run.id} removed {run.total_removed} rows.")
            st.rerun()
        st.error(
            f"Run #{run.id} failed after removing {run.total_removed} rows: {run.error_message}"
        )

st.subheader("Runs")
runs = list_runs(ws, me)
if not runs:
    st.caption("No run yet.")
else:
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "Run": r.id,
                    "Started": local_time(r.started_at),
                    "Trigger": r.trigger,
                    "By": r.actor,
                    "Status": r.status,
                    "Removed": r.total,
                    "What": "; ".join(
                        f"{i['domain']} {_what(i['kind'], i['entity']).lower()}: {i['removed']}"
                        for i in r.items
                    ),
                    "Problem": r.error_message,
                }
                for r in runs
            ]
        ),
        hide_index=True,
        width="stretch",
    )
