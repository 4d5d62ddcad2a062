"""Users: who can sign in, their role in each domain and their PII grants.

An admin adds, disables, re-enables and resets accounts and sets roles anywhere; a domain
lead sets editor, viewer and PII in the domains they lead. ``core`` checks every change.
"""

import pandas as pd
import streamlit as st

from core.account_admin import disable_user, enable_user, reset_password
from core.accounts import create_user, unlock
from core.domain_roles import (
    DOMAIN_ROLES,
    AccountRoles,
    list_people,
    set_base_role,
    set_domain_roles,
)
from core.errors import SwitchboardError
from core.permissions import DOMAINS, Action, Role
from pages.common import actor, flash, local_time, show_error, show_flash, workspace

ws, me = workspace(), actor()
is_admin = me.may(Action.MANAGE_USERS)
st.title("Users")
show_flash()


def _cell(person: AccountRoles, domain: str) -> str:
    role = person.domains[domain].label
    return f"{role} + PII" if domain in person.pii_domains else role


people = list_people(ws, me)
st.dataframe(
    pd.DataFrame(
        [
            {
                "User name": p.username,
                "Name": p.account.display_name,
                "Base role": p.account.role.label,
                **{d: _cell(p, d) for d in DOMAINS},
                "Status": p.account.status(),
                "Last sign-in": local_time(p.account.last_login_at),
            }
            for p in people
        ]
    ),
    hide_index=True,
    width="stretch",
)


def _try(action, done: str) -> None:
    """Run one change; on success say so after the rerun, otherwise explain here."""
    try:
        action()
    except SwitchboardError as exc:
        show_error(exc)
    else:
        flash(done)
        st.rerun()


def _may_change(person: AccountRoles, domain: str) -> bool:
    """Whether to offer the domain's role for editing (core decides again on saving)."""
    if person.account.role is Role.ADMIN:
        return False
    if is_admin:
        return True
    return (
        me.may(Action.MANAGE_DOMAIN_ROLES, domain)
        and person.username != me.username
        and person.domains[domain] is not Role.LEAD
    )


def _roles_form(person: AccountRoles) -> None:
    name = person.username
    if person.account.role is Role.ADMIN:
        st.caption(f"{name} is an admin and holds every domain.")
        return
    choices = [r.value for r in DOMAIN_ROLES if is_admin or r is not Role.LEAD]
    picked = {}
    with st.form(f"roles_{name}"):
        for domain in DOMAINS:
            current, editable = person.domains[domain].value, _may_change(person, domain)
            options = choices if editable else [current]
            left, middle, right = st.columns([2, 2, 1], vertical_alignment="center")
            left.write(domain)
            role = middle.selectbox(
                f"Role in {domain}",
                options,
                index=options.index(current) if current in options else 0,
                format_func=lambda v: Role(v).label,
                key=f"role_{name}_{domain}",
                disabled=not editable,
                label_visibility="collapsed",
            )
            pii = right.checkbox(
                "PII",
                value=domain in person.pii_domains,
                key=f"pii_{name}_{domain}",
                disabled=not editable,
                help="May see this domain's personal data unmasked.",
            )
            if (role, pii) != (current, domain in person.pii_domains):
                picked[domain] = (role, pii)
        if st.form_submit_button("Save roles", type="primary"):
            if not picked:
                st.info("Nothing changed.")
            else:
                _try(lambda: set_domain_roles(ws, me, name, picked), f"Saved the roles of {name}.")


def _account_actions(person: AccountRoles) -> None:
    name, account = person.username, person.account
    with st.form(f"base_role_{name}"):
        roles = [r.value for r in Role]
        base = st.selectbox(
            "Base role (every domain without its own role)",
            roles,
            index=roles.index(account.role.value),
            format_func=lambda v: Role(v).label,
            key=f"base_role_{name}",
        )
        if st.form_submit_button("Change base role"):
            _try(lambda: set_base_role(ws, me, name, base), f"{name} is now {Role(base).label}.")
    with st.form(f"reset_{name}", clear_on_submit=True):
        new_password = st.text_input(
            "New password",
            type="password",
            key=f"reset_password_{name}",
            help="At least 10 characters; leave empty to generate one.",
        )
        if st.form_submit_button("Reset password"):
            try:
                generated = reset_password(ws, me, name, new_password)
            except SwitchboardError as exc:
                show_error(exc)
            else:
                shown = f" New password, shown this once: `{generated}`" if generated else ""
                flash(f"Reset the password of {name}.{shown}")
                st.rerun()
    if account.status() == "locked" and st.button("Unlock", key="unlock"):
        _try(lambda: unlock(ws, me, name), f"Unlocked {name}.")
    if not account.active:
        if st.button(f"Re-enable {name}", key="enable"):
            _try(lambda: enable_user(ws, me, name), f"Re-enabled {name}.")
        return
    if st.button(f"Disable {name}", key="disable"):
        st.session_state["sb_confirm_disable"] = name
    if st.session_state.get("sb_confirm_disable") == name:
        st.warning(
            f"Disable {name}? They are signed out at their next page and cannot sign in "
            "until an admin re-enables them."
        )
        yes, no = st.columns(2)
        if no.button("Cancel", key="cancel_disable"):
            st.session_state.pop("sb_confirm_disable")
            st.rerun()
        if yes.button("Yes, disable", key="confirm_disable", type="primary"):
            st.session_state.pop("sb_confirm_disable")
            _try(lambda: disable_user(ws, me, name), f"Disabled {name}.")


st.subheader("Roles per domain")
choosable = [p for p in people if is_admin or p.account.role is not Role.ADMIN]
if choosable:
    chosen = st.selectbox("Person", [p.username for p in choosable], key="person")
    person = next(p for p in choosable if p.username == chosen)
    _roles_form(person)
    if is_admin:
        st.subheader(f"Account of {chosen}")
        _account_actions(person)

if is_admin:
    with st.form("new_user"):
        st.subheader("Add a user")
        left, right = st.columns(2)
        username = left.text_input("User name", key="new_username")
        display_name = right.text_input("Display name", key="new_display_name")
        email = left.text_input("E-mail", key="new_email")
        role = right.selectbox(
            "Role",
            [r.value for r in Role],
            index=2,
            format_func=lambda v: Role(v).label,
            key="new_role",
            help="Held in every domain until a domain gets a role of its own below.",
        )
        password = st.text_input(
            "Initial password", type="password", help="At least 10 characters.", key="new_password"
        )
        if st.form_submit_button("Add user", type="primary"):
            _try(
                lambda: create_user(
                    ws,
                    me,
                    username=username,
                    display_name=display_name,
                    role=role,
                    password=password,
                    email=email,
                ),
                f"Added user {username.strip().lower()}.",
            )
