"""User accounts: the first admin, creating users, lockout, inactivity, the cookie key;
disabling, re-enabling and resetting an account."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from core import account_admin, accounts
from core.errors import AccountLocked, ConfigurationError, InputError, NotFound, PermissionDenied
from core.permissions import Actor, Role
from core.settings import load_settings
from core.workspace import Workspace, open_workspace
from tests.conftest import ADMIN, ADMIN_PASSWORD, EDITOR, VIEWER
from tests.core.conftest import count_rows

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
GOOD = {
    "username": "maria",
    "display_name": "Maria Lopez",
    "role": "editor",
    "password": "long-enough-pw",
    "email": "maria@example.com",
}


def _hash_of(ws: Workspace, username: str) -> str:
    return accounts.login_credentials(ws)["usernames"][username]["password"]


@pytest.fixture
def maria(ws: Workspace) -> str:
    return accounts.create_user(ws, ADMIN, **GOOD).username


# --- the first admin ------------------------------------------------------------------


def test_first_admin_takes_the_password_from_the_environment(ws: Workspace) -> None:
    assert accounts.ensure_first_admin(ws) is None
    admin = accounts.get_account(ws, "admin")
    assert admin.role == "admin"
    assert accounts.password_matches(ADMIN_PASSWORD, _hash_of(ws, "admin"))
    assert ADMIN_PASSWORD not in _hash_of(ws, "admin")
    # a second start creates nothing and keeps the password
    assert accounts.ensure_first_admin(ws) is None
    assert count_rows(ws, "users") == 1
    assert accounts.password_matches(ADMIN_PASSWORD, _hash_of(ws, "admin"))


def test_first_admin_gets_a_generated_password_shown_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SWITCHBOARD_ADMIN_PASSWORD")
    ws = open_workspace(load_settings())
    password = accounts.ensure_first_admin(ws)
    assert password is not None
    assert len(password) >= accounts.MIN_PASSWORD_LENGTH
    assert accounts.password_matches(password, _hash_of(ws, "admin"))
    assert accounts.ensure_first_admin(ws) is None
    assert count_rows(ws, "users") == 1


def test_no_first_admin_when_users_exist(ws: Workspace, maria: str) -> None:
    assert accounts.ensure_first_admin(ws) is None
    with pytest.raises(NotFound):
        accounts.get_account(ws, "admin")


def test_a_too_short_admin_password_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWITCHBOARD_ADMIN_PASSWORD", "admin")
    ws = open_workspace(load_settings())
    with pytest.raises(InputError) as caught:
        accounts.ensure_first_admin(ws)
    assert [p.field for p in caught.value.problems] == ["SWITCHBOARD_ADMIN_PASSWORD"]
    assert "10 characters" in str(caught.value)
    assert count_rows(ws, "users") == 0
    assert count_rows(ws, "audit_entries") == 0


# --- creating users ---------------------------------------------------------------------


def test_create_user_stores_an_account_and_audits_it(ws: Workspace) -> None:
    account = accounts.create_user(ws, ADMIN, **{**GOOD, "username": "  Maria  "})
    assert (account.username, account.display_name, account.role) == (
        "maria",
        "Maria Lopez",
        "editor",
    )
    assert accounts.password_matches(GOOD["password"], _hash_of(ws, "maria"))
    assert [a.username for a in accounts.list_accounts(ws, ADMIN)] == ["maria"]
    assert count_rows(ws, "audit_entries") == 1


@pytest.mark.parametrize("username", ["maria lopez", "maría", "1maria", "m", "maria!", ""])
def test_a_bad_username_is_refused(ws: Workspace, username: str) -> None:
    with pytest.raises(InputError) as caught:
        accounts.create_user(ws, ADMIN, **{**GOOD, "username": username})
    assert [p.field for p in caught.value.problems] == ["username"]
    assert count_rows(ws, "users") == 0


def test_every_problem_is_reported_at_once(ws: Workspace) -> None:
    with pytest.raises(InputError) as caught:
        accounts.create_user(
            ws,
            ADMIN,
            username="Maria Lopez",
            display_name="   ",
            role="owner",
            password="short",
            email="maria-at-example",
        )
    assert [p.field for p in caught.value.problems] == [
        "username",
        "display name",
        "role",
        "email",
        "password",
    ]
    assert "short" not in str(caught.value)
    assert count_rows(ws, "users") == 0
    assert count_rows(ws, "audit_entries") == 0


@pytest.mark.parametrize("password", ["123456789", " " * 12, ""])
def test_a_weak_password_is_refused(ws: Workspace, password: str) -> None:
    with pytest.raises(InputError) as caught:
        accounts.create_user(ws, ADMIN, **{**GOOD, "password": password})
    assert [p.field for p in caught.value.problems] == ["password"]
    assert count_rows(ws, "users") == 0


def test_a_taken_username_is_refused(ws: Workspace, maria: str) -> None:
    with pytest.raises(InputError) as caught:
        accounts.create_user(ws, ADMIN, **{**GOOD, "username": "MARIA", "display_name": "M"})
    assert caught.value.problems[0].field == "username"
    assert "taken" in str(caught.value)
    assert count_rows(ws, "users") == 1
    assert count_rows(ws, "audit_entries") == 1


@pytest.mark.parametrize("actor", [VIEWER, EDITOR])
def test_only_an_admin_creates_users(ws: Workspace, actor: object) -> None:
    with pytest.raises(PermissionDenied):
        accounts.create_user(ws, actor, **GOOD)
    with pytest.raises(PermissionDenied):
        accounts.list_accounts(ws, actor)
    assert count_rows(ws, "users") == 0


def test_a_user_can_be_created_as_domain_lead(ws: Workspace) -> None:
    account = accounts.create_user(ws, ADMIN, **{**GOOD, "role": "lead"})
    assert account.role == "lead"


def test_a_bad_role_lists_the_four_roles(ws: Workspace) -> None:
    with pytest.raises(InputError) as caught:
        accounts.create_user(ws, ADMIN, **{**GOOD, "role": "owner"})
    assert [p.field for p in caught.value.problems] == ["role"]
    assert "admin, lead, editor or viewer" in str(caught.value)


# --- lockout ------------------------------------------------------------------------------


def test_the_fifth_failed_login_locks_for_fifteen_minutes(ws: Workspace, maria: str) -> None:
    for n in range(4):
        assert accounts.record_failed_login(ws, maria, now=T0 + timedelta(seconds=n)) is False
        assert (
            accounts.check_can_sign_in(ws, maria, now=T0 + timedelta(seconds=n)).username == maria
        )

    locked_at = T0 + timedelta(minutes=1)
    assert accounts.record_failed_login(ws, maria, now=locked_at) is True
    with pytest.raises(AccountLocked) as caught:
        accounts.check_can_sign_in(ws, maria, now=locked_at)
    assert "15 minute" in str(caught.value)

    with pytest.raises(AccountLocked) as caught:
        accounts.check_can_sign_in(ws, maria, now=locked_at + timedelta(minutes=10))
    assert "5 minute" in str(caught.value)
    with pytest.raises(AccountLocked) as caught:
        accounts.check_can_sign_in(ws, maria, now=locked_at + timedelta(minutes=14, seconds=30))
    assert "1 minute" in str(caught.value)

    # wrong passwords during the lock do not extend it
    assert accounts.record_failed_login(ws, maria, now=locked_at + timedelta(minutes=5)) is True
    assert accounts.check_can_sign_in(ws, maria, now=locked_at + timedelta(minutes=15))
    assert accounts.get_account(ws, maria).locked_until == locked_at + timedelta(minutes=15)


def test_a_lock_is_audited(ws: Workspace, maria: str) -> None:
    for n in range(5):
        accounts.record_failed_login(ws, maria, now=T0)
    assert count_rows(ws, "audit_entries") == 2  # the creation and the lock


def test_after_the_lock_the_count_starts_again(ws: Workspace, maria: str) -> None:
    for _ in range(5):
        accounts.record_failed_login(ws, maria, now=T0)
    later = T0 + timedelta(minutes=16)
    for n in range(4):
        assert accounts.record_failed_login(ws, maria, now=later + timedelta(seconds=n)) is False
    assert accounts.check_can_sign_in(ws, maria, now=later + timedelta(seconds=5))


def test_a_successful_login_resets_the_count(ws: Workspace, maria: str) -> None:
    for _ in range(3):
        accounts.record_failed_login(ws, maria, now=T0)
    accounts.record_login(ws, maria, now=T0 + timedelta(seconds=1))
    assert accounts.get_account(ws, maria).last_login_at == T0 + timedelta(seconds=1)
    for _ in range(4):
        assert accounts.record_failed_login(ws, maria, now=T0 + timedelta(seconds=2)) is False
    assert accounts.check_can_sign_in(ws, maria, now=T0 + timedelta(seconds=3))
    assert accounts.record_failed_login(ws, maria, now=T0 + timedelta(seconds=4)) is True


def test_an_admin_unlocks(ws: Workspace, maria: str) -> None:
    for _ in range(5):
        accounts.record_failed_login(ws, maria, now=T0)
    with pytest.raises(PermissionDenied):
        accounts.unlock(ws, EDITOR, maria)
    with pytest.raises(AccountLocked):
        accounts.check_can_sign_in(ws, maria, now=T0)

    accounts.unlock(ws, ADMIN, maria)
    assert accounts.check_can_sign_in(ws, maria, now=T0).locked_until is None
    # the count was cleared too: four more failures do not lock
    for _ in range(4):
        assert accounts.record_failed_login(ws, maria, now=T0) is False
    with pytest.raises(NotFound):
        accounts.unlock(ws, ADMIN, "nobody")


def test_unknown_users_cannot_sign_in(ws: Workspace) -> None:
    assert accounts.record_failed_login(ws, "nobody", now=T0) is False
    with pytest.raises(NotFound):
        accounts.check_can_sign_in(ws, "nobody", now=T0)


# --- inactivity -----------------------------------------------------------------------------


def test_idle_too_long_follows_the_timeout(ws: Workspace, maria: str) -> None:
    assert accounts.idle_too_long(ws, maria, now=T0) is False  # never seen
    accounts.touch(ws, maria, now=T0)
    assert accounts.idle_too_long(ws, maria, now=T0 + timedelta(minutes=29)) is False
    assert accounts.idle_too_long(ws, maria, now=T0 + timedelta(minutes=30)) is False
    assert accounts.idle_too_long(ws, maria, now=T0 + timedelta(minutes=31)) is True
    accounts.touch(ws, maria, now=T0 + timedelta(minutes=31))
    assert accounts.idle_too_long(ws, maria, now=T0 + timedelta(minutes=32)) is False
    assert accounts.idle_too_long(ws, "nobody", now=T0) is False


def test_idle_timeout_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWITCHBOARD_SESSION_TIMEOUT_MINUTES", "5")
    ws = open_workspace(load_settings())
    accounts.ensure_first_admin(ws)
    accounts.touch(ws, "admin", now=T0)
    assert accounts.idle_too_long(ws, "admin", now=T0 + timedelta(minutes=4)) is False
    assert accounts.idle_too_long(ws, "admin", now=T0 + timedelta(minutes=6)) is True


@pytest.mark.parametrize("value", ["0", "thirty", "100000"])
def test_a_bad_timeout_setting_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("SWITCHBOARD_SESSION_TIMEOUT_MINUTES", value)
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    assert "SWITCHBOARD_SESSION_TIMEOUT_MINUTES" in str(caught.value)


# --- the cookie key ---------------------------------------------------------------------


def test_cookie_key_is_long_private_and_stable(ws: Workspace, data_dir: Path) -> None:
    key = accounts.cookie_key(ws)
    assert len(key) >= 43
    path = data_dir / "cookie.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert accounts.cookie_key(ws) == key
    assert accounts.cookie_key(open_workspace(load_settings())) == key


@pytest.mark.parametrize(
    "contents",
    [b"", b"short", b"x" * 42 + b"\n", b"\xff\xfe" + b"\x00\x81" * 40, "é".encode() * 50],
)
def test_a_damaged_cookie_key_names_the_file(
    ws: Workspace, data_dir: Path, contents: bytes
) -> None:
    path = data_dir / "cookie.key"
    path.write_bytes(contents)
    with pytest.raises(ConfigurationError) as caught:
        accounts.cookie_key(ws)
    assert str(path) in caught.value.message
    assert "Delete it" in caught.value.fix


# --- disabling, re-enabling, resetting -----------------------------------------------------


def test_a_disabled_user_cannot_sign_in_until_re_enabled(ws: Workspace, maria: str) -> None:
    account = account_admin.disable_user(ws, ADMIN, maria)
    assert account.status() == "disabled"
    assert maria not in accounts.login_credentials(ws)["usernames"]
    with pytest.raises(NotFound) as caught:
        accounts.check_can_sign_in(ws, maria)
    assert "disabled" in str(caught.value)

    assert account_admin.enable_user(ws, ADMIN, maria).status() == "active"
    assert maria in accounts.login_credentials(ws)["usernames"]
    assert accounts.check_can_sign_in(ws, maria).role == "editor"


def test_disabling_and_re_enabling_are_audited_once_each(ws: Workspace, maria: str) -> None:
    account_admin.disable_user(ws, ADMIN, maria)
    account_admin.disable_user(ws, ADMIN, maria)  # already disabled: nothing new
    account_admin.enable_user(ws, ADMIN, maria)
    assert count_rows(ws, "audit_entries") == 3  # creation, disable, enable


def test_an_admin_cannot_disable_themselves(ws: Workspace) -> None:
    accounts.ensure_first_admin(ws)
    with pytest.raises(PermissionDenied) as caught:
        account_admin.disable_user(ws, ADMIN, "admin")
    assert "your own account" in str(caught.value)
    assert accounts.get_account(ws, "admin").active


def test_the_last_active_admin_cannot_be_disabled(ws: Workspace) -> None:
    accounts.ensure_first_admin(ws)
    accounts.create_user(ws, ADMIN, **{**GOOD, "username": "boss", "role": "admin"})
    other_admin = Actor("root", Role.ADMIN)
    account_admin.disable_user(ws, other_admin, "boss")
    with pytest.raises(PermissionDenied) as caught:
        account_admin.disable_user(ws, other_admin, "admin")
    assert "last active admin" in str(caught.value)
    assert accounts.get_account(ws, "admin").active
    # with boss back, admin may go
    account_admin.enable_user(ws, other_admin, "boss")
    assert account_admin.disable_user(ws, other_admin, "admin").status() == "disabled"


@pytest.mark.parametrize("actor", [VIEWER, EDITOR, Actor("lead", Role.LEAD)])
def test_only_an_admin_disables_enables_and_resets(ws: Workspace, maria: str, actor) -> None:
    for change in (account_admin.disable_user, account_admin.enable_user):
        with pytest.raises(PermissionDenied):
            change(ws, actor, maria)
    with pytest.raises(PermissionDenied):
        account_admin.reset_password(ws, actor, maria, "another-long-pw")
    assert count_rows(ws, "audit_entries") == 1


def test_changes_to_an_unknown_user_are_refused(ws: Workspace) -> None:
    for change in (account_admin.disable_user, account_admin.enable_user):
        with pytest.raises(NotFound) as caught:
            change(ws, ADMIN, "nobody")
        assert "nobody" in str(caught.value)
    with pytest.raises(NotFound):
        account_admin.reset_password(ws, ADMIN, "nobody", "another-long-pw")


def test_reset_password_sets_the_given_one_and_lifts_the_lock(ws: Workspace, maria: str) -> None:
    for _ in range(5):
        accounts.record_failed_login(ws, maria)
    assert accounts.get_account(ws, maria).status() == "locked"
    assert account_admin.reset_password(ws, ADMIN, maria, "brand-new-password") is None
    assert accounts.password_matches("brand-new-password", _hash_of(ws, maria))
    assert not accounts.password_matches(GOOD["password"], _hash_of(ws, maria))
    assert accounts.check_can_sign_in(ws, maria).status() == "active"
    # audited, without the password
    assert "brand-new-password" not in _dump_audit(ws)


def test_reset_password_generates_one_when_none_is_given(ws: Workspace, maria: str) -> None:
    generated = account_admin.reset_password(ws, ADMIN, maria)
    assert generated and len(generated) >= accounts.MIN_PASSWORD_LENGTH
    assert accounts.password_matches(generated, _hash_of(ws, maria))
    assert generated not in _dump_audit(ws)


@pytest.mark.parametrize("password", ["short", " " * 12])
def test_a_weak_new_password_is_refused(ws: Workspace, maria: str, password: str) -> None:
    with pytest.raises(InputError) as caught:
        account_admin.reset_password(ws, ADMIN, maria, password)
    assert [p.field for p in caught.value.problems] == ["new password"]
    assert accounts.password_matches(GOOD["password"], _hash_of(ws, maria))
    assert count_rows(ws, "audit_entries") == 1


def _dump_audit(ws: Workspace) -> str:
    with ws.engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM audit_entries")).all()
    return repr(rows)
