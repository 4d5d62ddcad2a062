"""AppTest helpers: the real app, a fresh data directory, users of each role."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest, app_test

from core.accounts import create_user, ensure_first_admin
from core.workspace import Workspace
from tests.conftest import ADMIN, ADMIN_PASSWORD

APP = str(Path(__file__).resolve().parents[2] / "app.py")
PASSWORDS = {"admin": ADMIN_PASSWORD, "editor": "editor-password-1", "viewer": "viewer-password-1"}


class _NavigationPagesManager(PagesManager):
    """AppTest forgets, before every run, that the app uses ``st.navigation``, and then
    runs ``pages/*.py`` without ``app.py`` (the old pages-directory mode). The real server
    remembers it once ``st.navigation`` has run; this keeps AppTest to the same rule."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        PagesManager.uses_pages_directory = False


@pytest.fixture(autouse=True)
def _navigation_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app_test, "PagesManager", _NavigationPagesManager)


@pytest.fixture
def people(ws: Workspace) -> Workspace:
    """The workspace with an admin, an editor and a viewer."""
    ensure_first_admin(ws)
    for role in ("editor", "viewer"):
        create_user(
            ws,
            ADMIN,
            username=role,
            display_name=role.title(),
            role=role,
            password=PASSWORDS[role],
        )
    return ws


def new_app() -> AppTest:
    return AppTest.from_file(APP, default_timeout=60)


def sign_in(username: str, password: str | None = None, at: AppTest | None = None) -> AppTest:
    at = at or new_app().run()
    at.text_input[0].input(username)
    at.text_input[1].input(password or PASSWORDS[username])
    at.button[0].click().run()
    if at.session_state["authentication_status"]:
        # In a browser, the cookie component reruns the app right after signing in.
        at.run()
    return at


def texts(at: AppTest) -> str:
    """Everything the page says, in one string, for assertions."""
    parts = [
        e.value
        for kind in ("title", "header", "subheader", "markdown", "caption")
        for e in getattr(at, kind)
    ]
    for kind in ("success", "info", "warning", "error"):
        parts.extend(str(e.value) for e in getattr(at, kind))
    return "\n".join(str(p) for p in parts)
