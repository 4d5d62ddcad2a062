"""The app shell: sign-in, sign-out, lockout, pages per role, inactivity timeout."""

from __future__ import annotations

import time

import pytest

from tests.pages.conftest import new_app, sign_in, texts


def test_sign_in_shows_the_pages_of_an_admin(people):
    at = sign_in("admin")
    assert not at.exception
    assert at.title[0].value == "Overview"
    assert "Worker never started" in texts(at)
    at.switch_page("pages/audit_log.py").run()
    assert at.title[0].value == "Audit log"


def test_wrong_password_is_refused_plainly(people):
    at = sign_in("admin", "not-the-password")
    assert "Wrong user name or password." in [e.value for e in at.error]
    assert at.session_state["authentication_status"] is False
    assert not at.exception


def test_unknown_user_is_refused_the_same_way(people):
    at = sign_in("nobody", "whatever-password")
    assert "Wrong user name or password." in [e.value for e in at.error]


def test_five_failed_sign_ins_lock_the_account_even_for_the_right_password(people):
    at = new_app().run()
    for _ in range(4):
        at = sign_in("editor", "wrong-password-x", at)
        assert "locked" not in texts(at)
    at = sign_in("editor", "wrong-password-x", at)
    assert "locked after 5 failed sign-ins" in texts(at)
    at = sign_in("editor", None, new_app().run())
    assert "locked" in texts(at)
    assert not at.session_state["authentication_status"]


def test_a_viewer_cannot_reach_admin_pages_by_url(people):
    at = sign_in("viewer")
    assert at.title[0].value == "Overview"
    for page in ("pages/audit_log.py", "pages/users.py"):
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(page)
    assert not at.exception


def test_a_viewer_sees_connectors_but_no_form(people):
    at = sign_in("viewer")
    at.switch_page("pages/connectors.py").run()
    assert at.title[0].value == "Connectors"
    assert "can look but not change" in texts(at)
    assert not [b for b in at.button if "Save" in b.label]


def test_sign_out_returns_to_the_sign_in_form(people):
    at = sign_in("editor")
    at.button(key="sign_out").click().run()
    assert at.session_state["authentication_status"] is None
    assert [t.label for t in at.text_input] == ["User name", "Password"]


def test_inactivity_signs_the_user_out(people):
    at = sign_in("editor")
    at.session_state["sb_last_activity"] = time.time() - 31 * 60
    at.run()
    assert "signed out after 30 minutes" in texts(at)
    assert [t.label for t in at.text_input] == ["User name", "Password"]


def test_a_broken_setting_is_explained_without_a_traceback(people, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "mysql://user:pw@localhost/db")
    at = new_app().run()
    assert "Switchboard cannot start" in texts(at)
    assert "DATABASE_URL" in texts(at)
    assert not at.exception
