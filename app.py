"""Switchboard: sign-in, then the pages this person's roles may use (``st.navigation``).

A page shows when the person may take its action in some domain; a page nobody of their
roles may use is not in the navigation, so its URL leads nowhere; and every write in
``core`` checks the role in the domain concerned again. Roles are read from the store on
every run, so a change (or a disabled account) takes effect at the person's next page run.
"""

from __future__ import annotations

import time

import streamlit as st
import streamlit_authenticator as stauth
from streamlit_authenticator.utilities import LoginError

from core import accounts
from core.domain_roles import describe_roles, load_actor
from core.errors import SwitchboardError
from core.permissions import Action
from pages.common import show_error, workspace

st.set_page_config(page_title="Switchboard", page_icon=":material/hub:", layout="wide")

PAGES = [
    # (file, title, icon, action needed)
    ("pages/overview.py", "Overview", ":material/home:", Action.VIEW_REGISTRY),
    ("pages/connectors.py", "Connectors", ":material/cable:", Action.VIEW_REGISTRY),
    ("pages/systems.py", "Systems", ":material/dns:", Action.VIEW_REGISTRY),
    ("pages/integrations.py", "Integrations", ":material/sync_alt:", Action.VIEW_REGISTRY),
    ("pages/runs.py", "Runs", ":material/play_circle:", Action.VIEW_REGISTRY),
    ("pages/review_queue.py", "Review queue", ":material/rule:", Action.VIEW_REGISTRY),
    ("pages/hub_records.py", "Hub records", ":material/database:", Action.VIEW_REGISTRY),
    ("pages/data_dictionary.py", "Data dictionary", ":material/menu_book:", Action.VIEW_DICTIONARY),
    ("pages/integration_map.py", "Integration map", ":material/account_tree:", Action.VIEW_MAP),
    ("pages/vendor_scoring.py", "Vendor scoring", ":material/poll:", Action.VIEW_EVALUATIONS),
    ("pages/vendor_scoring_print.py", "Scoring print", ":material/print:", Action.VIEW_EVALUATIONS),
    ("pages/health.py", "Health", ":material/monitor_heart:", Action.VIEW_MONITORING),
    ("pages/alerts.py", "Alerts", ":material/notifications_active:", Action.VIEW_MONITORING),
    ("pages/kpis.py", "KPIs", ":material/speed:", Action.VIEW_MONITORING),
    ("pages/display_links.py", "Display links", ":material/tv:", Action.MANAGE_DISPLAY_LINKS),
    ("pages/audit_log.py", "Audit log", ":material/history:", Action.VIEW_AUDIT),
    ("pages/users.py", "Users", ":material/group:", Action.MANAGE_DOMAIN_ROLES),
    (
        "pages/privacy_requests.py",
        "Privacy requests",
        ":material/person_remove:",
        Action.HANDLE_PRIVACY_REQUESTS,
    ),
    ("pages/retention.py", "Retention", ":material/auto_delete:", Action.MANAGE_RETENTION),
    (
        "pages/compliance_report.py",
        "Compliance report",
        ":material/verified_user:",
        Action.VIEW_COMPLIANCE,
    ),
]


def _sign_out(reason: str) -> None:
    username = st.session_state.get("username")
    if username:
        accounts.record_logout(ws, username, reason)
    authenticator.logout(location="unrendered")
    for key in ("sb_actor", "sb_signed_in", "sb_last_activity"):
        st.session_state.pop(key, None)


# A wall-screen link opens the wall screen and nothing else, with no sign-in.
if "display" in st.query_params:
    st.navigation([st.Page("pages/wall_screen.py", title="Wall screen")], position="hidden").run()
    st.stop()

try:
    ws = workspace()
    authenticator = stauth.Authenticate(
        accounts.login_credentials(ws),
        cookie_name="switchboard_session",
        cookie_key=accounts.cookie_key(ws),
        cookie_expiry_days=ws.settings.cookie_expiry_days,
        auto_hash=False,
        login_sleep_time=0,
    )
except SwitchboardError as exc:
    st.title("Switchboard cannot start")
    show_error(exc)
    st.stop()

timeout_s = ws.settings.session_timeout_minutes * 60
notice = st.session_state.pop("sb_notice", None)

# The inactivity timeout: judged on this session's last rerun, or, for a session that
# signs in again from the cookie, on the user's last activity stored in the database.
if st.session_state.get("authentication_status"):
    last = st.session_state.get("sb_last_activity")
    username = st.session_state["username"]
    stale = (time.time() - last > timeout_s) if last else accounts.idle_too_long(ws, username)
    if stale:
        _sign_out("was signed out after inactivity")
        notice = (
            f"You were signed out after {ws.settings.session_timeout_minutes} minutes "
            "without activity. Please sign in again."
        )

if not st.session_state.get("authentication_status"):
    with st.container():
        st.title("Switchboard")
        st.caption("The control plane for your marketing data integrations.")
        if notice:
            st.info(notice)
        credentials = authenticator.authentication_controller.authentication_model.credentials
        try:
            authenticator.login(
                location="main",
                fields={"Form name": "Sign in", "Username": "User name", "Login": "Sign in"},
            )
        except LoginError as exc:
            st.error(str(exc))
    failed = [u for u, d in credentials["usernames"].items() if d.get("failed_login_attempts")]
    for username in failed:
        if accounts.record_failed_login(ws, username):
            st.error(
                f"This account is locked after {accounts.MAX_FAILED_LOGINS} failed sign-ins. "
                f"Try again in {accounts.LOCK_MINUTES} minutes, or ask an admin to unlock it."
            )
            break
    else:
        if st.session_state.get("authentication_status") is False:
            st.error("Wrong user name or password.")
    if not st.session_state.get("authentication_status"):
        st.stop()
    # Signed in during this run. The form stays on screen for this run only: the
    # component inside it writes the login cookie, then reruns the app without it.

username = st.session_state["username"]
try:
    account = accounts.check_can_sign_in(ws, username)
    actor = load_actor(ws, username)
except SwitchboardError as exc:
    # disabled or locked meanwhile: back to the sign-in form, saying why
    authenticator.logout(location="unrendered")
    for key in ("sb_actor", "sb_signed_in"):
        st.session_state.pop(key, None)
    st.session_state["sb_notice"] = str(exc)
    st.rerun()

if not st.session_state.get("sb_signed_in"):
    accounts.record_login(ws, username)
    st.session_state["sb_signed_in"] = True
now = time.time()
if now - st.session_state.get("sb_last_touch", 0) > 60:
    accounts.touch(ws, username)
    st.session_state["sb_last_touch"] = now
st.session_state["sb_last_activity"] = now
# pages.common.actor() hands this run's reading to the page
st.session_state["sb_actor"] = actor

with st.sidebar:
    st.markdown(f"**{account.display_name}**  \n{describe_roles(actor)} · `{account.username}`")
    if st.button("Sign out", key="sign_out"):
        _sign_out("signed out")
        st.rerun()

pages = [
    st.Page(path, title=title, icon=icon, default=(path == PAGES[0][0]))
    for path, title, icon, action in PAGES
    if actor.may(action)
]
try:
    st.navigation(pages, expanded=True).run()
except SwitchboardError as exc:
    # a safety net: every page handles its expected errors; none may reach the user raw
    show_error(exc)
