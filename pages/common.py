"""What every page shares: the workspace, the signed-in actor, the gateway, error display.

Pages stay thin: widgets, one or two calls into ``core``, rendering.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import streamlit as st

from core.accounts import ensure_first_admin
from core.call_log import direct_recorder
from core.domain_roles import load_actor
from core.errors import InputError, SwitchboardError
from core.gateway import Gateway
from core.permissions import Action, Actor
from core.settings import Settings, load_settings
from core.workspace import Workspace, open_workspace


@st.cache_resource(show_spinner=False)
def _open_workspace(_settings: Settings, data_dir: str, database_url: str) -> Workspace:
    ws = open_workspace(_settings)
    generated = ensure_first_admin(ws)
    if generated:
        # shown once, on the server's console, never in the browser
        print(f"First admin created: user 'admin', password '{generated}'. Change it soon.")
    return ws


def workspace() -> Workspace:
    """The workspace for the current settings, opened (and migrated) once per process."""
    settings = load_settings()
    return _open_workspace(settings, str(settings.data_dir), settings.database_url)


@st.cache_resource(show_spinner=False)
def _gateway(_ws: Workspace, data_dir: str, database_url: str) -> Gateway:
    return Gateway(timeout_seconds=_ws.settings.http_timeout_seconds, recorder=direct_recorder(_ws))


def gateway() -> Gateway:
    """One HTTP gateway per app process (and store), shared by every session; its calls
    count towards each connector's daily quota."""
    ws = workspace()
    return _gateway(ws, str(ws.settings.data_dir), ws.settings.database_url)


def actor() -> Actor:
    """The signed-in person with their role in every domain and their PII grants.

    app.py checks the login and reads the roles from the store on every run before the
    page runs, so a role changed by an admin or a domain lead counts from the next run.
    """
    current = st.session_state.get("sb_actor")
    if current is None or current.username != st.session_state.get("username"):
        current = load_actor(workspace(), st.session_state["username"])
        st.session_state["sb_actor"] = current
    return current


def domain_choices(me: Actor, action: Action, current: str | None = None) -> list[str]:
    """The domains a form offers: those where the person may take ``action``, and the
    current one of what is being edited (so the form shows it as it is)."""
    choices = me.domains_where(action)
    if current and current not in choices:
        choices.insert(0, current)
    return choices


def show_error(exc: SwitchboardError) -> None:
    """An error in plain words: one line per field for bad input."""
    if isinstance(exc, InputError):
        st.error(
            "Nothing was saved. Please fix:\n\n"
            + "\n".join(f"- **{p.field}** {p.message}" for p in exc.problems)
        )
    else:
        st.error(f"{exc.message}\n\n{exc.fix}".strip())


def local_time(value: datetime | None) -> str:
    """A stored UTC time in the viewer's zone (from the browser when known)."""
    if value is None:
        return "—"
    zone_name = st.context.timezone or "UTC"
    try:
        zone = ZoneInfo(zone_name)
    except (KeyError, ValueError):
        zone = ZoneInfo("UTC")
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S %Z")


def flash(message: str) -> None:
    """A success message that survives the rerun that follows a save."""
    st.session_state["sb_flash"] = message


def show_flash() -> None:
    message = st.session_state.pop("sb_flash", None)
    if message:
        st.success(message)
