"""Users (admins): who can sign in, with which role; unlock a locked account."""

import pandas as pd
import streamlit as st

from core.accounts import create_user, list_accounts, unlock
from core.errors import SwitchboardError
from core.permissions import Role
from pages.common import actor, flash, local_time, show_error, show_flash, workspace

ws, me = workspace(), actor()
st.title("Users")
show_flash()

people = list_accounts(ws, me)
st.dataframe(
    pd.DataFrame(
        [
            {
                "User name": p.username,
                "Name": p.display_name,
                "Role": p.role.value,
                "Active": p.active,
                "Locked until": local_time(p.locked_until) if p.locked_until else "",
                "Last sign-in": local_time(p.last_login_at),
            }
            for p in people
        ]
    ),
    hide_index=True,
    width="stretch",
)

with st.form("new_user"):
    st.subheader("Add a user")
    left, right = st.columns(2)
    username = left.text_input("User name", key="new_username")
    display_name = right.text_input("Display name", key="new_display_name")
    email = left.text_input("E-mail", key="new_email")
    role = right.selectbox("Role", [r.value for r in Role], index=2)
    password = st.text_input(
        "Initial password", type="password", help="At least 10 characters.", key="new_password"
    )
    if st.form_submit_button("Add user", type="primary"):
        try:
            create_user(
                ws,
                me,
                username=username,
                display_name=display_name,
                role=role,
                password=password,
                email=email,
            )
            flash(f"Added user {username.strip().lower()}.")
            st.rerun()
        except SwitchboardError as exc:
            show_error(exc)

locked = [p for p in people if p.locked_until]
if locked:
    who = st.selectbox("Locked account", [p.username for p in locked])
    if st.button("Unlock"):
        unlock(ws, me, who)
        flash(f"Unlocked {who}.")
        st.rerun()
