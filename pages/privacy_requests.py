"""Privacy requests: find a person by e-mail, see every record and system holding them,
record their deletion request with its legal deadline, carry it out, and follow it.

``core.privacy`` checks the role again (admin, or a domain lead) and masks personal data
the signed-in person may not see.
"""

import pandas as pd
import streamlit as st

from core.errors import SwitchboardError
from core.privacy import REGULATIONS, STATUSES, PersonFound, create_request, find_person
from core.privacy import list_requests as load_requests
from core.privacy_delete import execute_request, retry_failed
from pages.common import actor, flash, gateway, local_time, show_error, show_flash, workspace

ws, me = workspace(), actor()
st.title("Privacy requests")
st.caption(
    "A person's request to be deleted: GDPR gives one calendar month to answer, CCPA 45 "
    "days. Deleting removes them from the hub, sends the deletion to every connected system "
    "that can take it, and puts them on the suppression list so no later sync brings them back."
)
show_flash()


def _preview(found: PersonFound) -> None:
    st.subheader(f"{found.email_hint}: {len(found.records)} record(s) in the hub")
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "Entity": r.entity,
                    "Key": r.key,
                    "Held by": ", ".join(r.systems),
                    "Fields": ", ".join(
                        f"{k}: {v}" for k, v in r.values.items() if v not in (None, "")
                    ),
                }
                for r in found.records
            ]
        ),
        hide_index=True,
        width="stretch",
    )
    if found.targets:
        names = ", ".join(f"{t.system} (through {t.connector})" for t in found.targets)
        st.write(f"The deletion will be sent to: {names}.")
    else:
        st.info("No connected system declares a delete endpoint: only the hub will be cleared.")


with st.form("privacy_find"):
    email = st.text_input("E-mail", key="privacy_email", placeholder="person@example.com")
    regulation = st.selectbox(
        "Regulation", list(REGULATIONS), format_func=REGULATIONS.get, key="privacy_regulation"
    )
    left, right = st.columns(2)
    find = left.form_submit_button("Find", key="privacy_find_button")
    create = right.form_submit_button("Create request", type="primary", key="privacy_create")
try:
    if find:
        _preview(find_person(ws, me, email))
    if create:
        made = create_request(ws, me, email, regulation)
        flash(f"Request #{made.id} received; due {made.due_at:%Y-%m-%d} ({made.deadline}).")
        st.rerun()
except SwitchboardError as exc:
    show_error(exc)

requests = load_requests(ws, me)
st.subheader("Requests")
if not requests:
    st.info("No privacy request yet.")
    st.stop()


def _systems(results: list[dict]) -> str:
    return ", ".join(f"{r['system']}: {r['status'].replace('_', ' ')}" for r in results) or "—"


st.dataframe(
    pd.DataFrame(
        [
            {
                "#": r.id,
                "Person": r.email_hint,
                "Regulation": r.regulation.upper(),
                "Status": STATUSES.get(r.status, r.status),
                "Received": local_time(r.received_at),
                "Due": local_time(r.due_at),
                "Deadline": r.deadline,
                "Hub records deleted": r.hub_records_deleted,
                "Systems": _systems(r.results),
            }
            for r in requests
        ]
    ),
    hide_index=True,
    width="stretch",
)
chosen = st.selectbox(
    "Request",
    requests,
    format_func=lambda r: f"#{r.id} · {r.email_hint} · {STATUSES.get(r.status, r.status)}",
    key="privacy_pick",
)
if chosen.results:
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "System": r["system"],
                    "Connector": r["connector"],
                    "Result": r["status"].replace("_", " "),
                    "Detail": r["detail"],
                }
                for r in chosen.results
            ]
        ),
        hide_index=True,
        width="stretch",
    )
try:
    if chosen.status == "received":
        sure = st.checkbox(
            f"Yes, delete this person from the hub and from {len(chosen.results)} connected "
            "system(s). This cannot be undone.",
            key=f"privacy_sure_{chosen.id}",
        )
        if st.button("Execute deletion", type="primary", disabled=not sure, key="privacy_run"):
            done = execute_request(ws, me, chosen.id, gateway())
            flash(f"Request #{done.id} is {STATUSES.get(done.status, done.status)}.")
            st.rerun()
    elif chosen.failed_systems:
        if st.button("Retry failed systems", key="privacy_retry"):
            done = retry_failed(ws, me, chosen.id, gateway())
            flash(f"Request #{done.id} is {STATUSES.get(done.status, done.status)}.")
            st.rerun()
except SwitchboardError as exc:
    show_error(exc)
