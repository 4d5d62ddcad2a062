"""The Users page as an admin and a domain lead meet it: roles per domain, disabling,
re-enabling, resetting passwords, and bad input explained on the page."""

from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest

from core import accounts
from core.domain_roles import load_actor, set_domain_role
from core.permissions import Role
from tests.conftest import ADMIN
from tests.pages.conftest import _navigation_mode, people, sign_in, texts

# the page tests' fixtures: the app's navigation mode (autouse) and users of each role
__all__ = ["_navigation_mode", "people"]


def press(at: AppTest, label: str) -> AppTest:
    next(b for b in at.button if b.label == label).click().run()
    assert not at.exception
    return at


def users_page(username: str) -> AppTest:
    at = sign_in(username)
    at.switch_page("pages/users.py").run()
    assert not at.exception
    assert at.title[0].value == "Users"
    return at


def errors(at: AppTest) -> str:
    return "\n".join(e.value for e in at.error)


def choose(at: AppTest, username: str) -> AppTest:
    at.selectbox(key="person").select(username).run()
    return at


def signed_out(at: AppTest) -> bool:
    return [t.label for t in at.text_input][:2] == ["User name", "Password"]


def test_an_admin_adds_a_domain_lead(people):
    at = users_page("admin")
    at.text_input(key="new_username").input("dana")
    at.text_input(key="new_display_name").input("Dana Smith")
    at.text_input(key="new_password").input("dana-password-1")
    at.selectbox(key="new_role").select("lead")
    at = press(at, "Add user")
    assert "Added user dana." in texts(at)
    assert load_actor(people, "dana").role is Role.LEAD


def test_an_admin_sets_roles_per_domain_and_they_count_at_the_next_run(people):
    viewer = sign_in("viewer")
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        viewer.switch_page("pages/users.py")
    at = choose(users_page("admin"), "viewer")
    at.selectbox(key="role_viewer_Marketing").select("lead")
    at.checkbox(key="pii_viewer_Sales").check()
    at = press(at, "Save roles")
    assert "Saved the roles of viewer." in texts(at)
    actor = load_actor(people, "viewer")
    assert actor.role_in("Marketing") is Role.LEAD
    assert actor.pii_domains == frozenset({"Sales"})
    # the table shows it
    table = at.dataframe[0].value.set_index("User name")
    assert table.loc["viewer", "Marketing"] == "domain lead"
    assert table.loc["viewer", "Sales"] == "viewer + PII"
    # the viewer, still signed in, now reaches the Users page without signing in again
    viewer.run()
    assert "viewer · Marketing domain lead · PII in Sales" in texts(viewer)
    viewer.switch_page("pages/users.py").run()
    assert viewer.title[0].value == "Users"


def test_nothing_changed_is_said_plainly(people):
    at = press(choose(users_page("admin"), "editor"), "Save roles")
    assert "Nothing changed." in texts(at)


def test_disabling_asks_first_then_the_user_cannot_sign_in(people):
    editor = sign_in("editor")
    at = choose(users_page("admin"), "editor")
    at = press(at, "Disable editor")
    assert "Disable editor? They are signed out" in texts(at)
    assert accounts.get_account(people, "editor").active  # not yet
    at = press(at, "Yes, disable")
    assert "Disabled editor." in texts(at)
    assert at.dataframe[0].value.set_index("User name").loc["editor", "Status"] == "disabled"
    # the open session ends at its next run
    editor.run()
    assert "This account is disabled." in texts(editor)
    assert signed_out(editor)
    # and signing in again is refused
    again = sign_in("editor")
    assert "Wrong user name or password." in errors(again)
    assert not again.session_state["authentication_status"]


def test_cancel_keeps_the_account(people):
    at = press(press(choose(users_page("admin"), "editor"), "Disable editor"), "Cancel")
    assert "Disable editor?" not in texts(at)
    assert accounts.get_account(people, "editor").active


def test_re_enabling_lets_the_user_sign_in_again(people):
    at = choose(users_page("admin"), "editor")
    at = press(press(at, "Disable editor"), "Yes, disable")
    at = press(at, "Re-enable editor")
    assert "Re-enabled editor." in texts(at)
    editor = sign_in("editor")
    assert editor.session_state["authentication_status"]
    assert editor.title[0].value == "Overview"


def test_resetting_a_password_to_a_given_one(people):
    at = choose(users_page("admin"), "editor")
    at.text_input(key="reset_password_editor").input("fresh-password-22")
    at = press(at, "Reset password")
    assert "Reset the password of editor." in texts(at)
    assert "fresh-password-22" not in texts(at)
    assert sign_in("editor", "fresh-password-22").session_state["authentication_status"]
    assert "Wrong user name" in errors(sign_in("editor"))  # the old one no longer works


def test_a_generated_password_is_shown_once_and_works(people):
    at = press(choose(users_page("admin"), "viewer"), "Reset password")
    shown = re.search(r"shown this once: `([^`]+)`", texts(at))
    assert shown
    assert sign_in("viewer", shown.group(1)).session_state["authentication_status"]
    at.run()
    assert shown.group(1) not in texts(at)


def test_bad_input_is_explained_on_the_page(people):
    at = choose(users_page("admin"), "editor")
    at.text_input(key="reset_password_editor").input("short")
    at = press(at, "Reset password")
    assert "**new password** must be at least 10 characters" in errors(at)
    assert sign_in("editor").session_state["authentication_status"]  # unchanged
    # an admin may not disable themselves
    at = press(press(choose(at, "admin"), "Disable admin"), "Yes, disable")
    assert "You may not disable your own account." in errors(at)
    assert accounts.get_account(people, "admin").active
    # nor demote themselves
    at.selectbox(key="base_role_admin").select("viewer")
    at = press(at, "Change base role")
    assert "your own base role" in errors(at)


def test_a_domain_lead_sets_roles_in_their_domain_only(people):
    set_domain_role(people, ADMIN, "viewer", "Marketing", "lead")
    at = users_page("viewer")
    assert not [b for b in at.button if b.label in ("Add user", "Reset password")]
    assert "admin" not in at.selectbox(key="person").options
    at = choose(at, "editor")
    assert at.selectbox(key="role_editor_Marketing").options == ["editor", "viewer"]
    assert at.selectbox(key="role_editor_Sales").disabled
    assert at.checkbox(key="pii_editor_Sales").disabled
    at.selectbox(key="role_editor_Marketing").select("viewer")
    at.checkbox(key="pii_editor_Marketing").check()
    at = press(at, "Save roles")
    assert "Saved the roles of editor." in texts(at)
    editor = load_actor(people, "editor")
    assert (editor.role_in("Marketing"), editor.role_in("Sales")) == (Role.VIEWER, Role.EDITOR)
    assert editor.pii_domains == frozenset({"Marketing"})
    # their own roles are read-only
    at = choose(at, "viewer")
    assert at.selectbox(key="role_viewer_Marketing").disabled


def test_another_lead_is_read_only_for_a_lead_even_if_it_changed_meanwhile(people):
    """The form is rebuilt from the store on every run: a role that became a lead's while
    the page was open is not changed by a save."""
    set_domain_role(people, ADMIN, "viewer", "Marketing", "lead")
    at = choose(users_page("viewer"), "editor")
    at.selectbox(key="role_editor_Marketing").select("viewer")
    set_domain_role(people, ADMIN, "editor", "Marketing", "lead")
    at = press(at, "Save roles")
    assert "Nothing changed." in texts(at)
    assert at.selectbox(key="role_editor_Marketing").disabled
    assert load_actor(people, "editor").role_in("Marketing") is Role.LEAD


def test_an_editor_has_no_users_page(people):
    at = sign_in("editor")
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/users.py")
