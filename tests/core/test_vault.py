"""The credential vault: sealing, the key file, key rotation, and no secret left readable
in the database files or the audit trail."""

from __future__ import annotations

import base64
import json
import os
import stat
import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import select

from core.connectors import secrets as connector_secrets
from core.connectors.catalog import Catalog, default_catalog
from core.connectors.registry import ConnectorInput, create_connector, load_connection
from core.errors import ConfigurationError
from core.settings import load_settings
from core.vault import Vault, key_id, load_vault, new_key_text, prepare_rotation
from core.workspace import Workspace, open_workspace
from db.engine import dispose_engines, read_session
from db.models import AuditEntry, ConnectorSecret
from tests.conftest import ADMIN
from tests.core.conftest import OTHER_TOKEN, TOKEN, count_rows, token_input

HUBSPOT_SECRET = "pat-na1-SUPERSECRET-123456"


def _reopen() -> Workspace:
    """A new process's view: engines dropped, settings and key read again."""
    dispose_engines()
    return open_workspace(load_settings())


def _two_connectors(ws: Workspace, catalog: Catalog) -> dict[int, str]:
    first = create_connector(ws, ADMIN, token_input("First"), catalog)
    second = create_connector(
        ws,
        ADMIN,
        token_input(
            "Second", values={"access_token": OTHER_TOKEN, "account_id": "2", "region": ""}
        ),
        catalog,
    )
    return {first.id: TOKEN, second.id: OTHER_TOKEN}


def _assert_all_open(ws: Workspace, expected: dict[int, str], catalog: Catalog) -> None:
    for connector_id, token in expected.items():
        assert load_connection(ws, connector_id, catalog).values["access_token"] == token


def _stored_key_ids(ws: Workspace) -> set[str]:
    with read_session(ws.engine) as session:
        return {row.key_id for row in session.exec(select(ConnectorSecret))}


# --- sealing ---------------------------------------------------------------------------


def test_seal_and_open_round_trip() -> None:
    vault = Vault(os.urandom(32))
    sealed = vault.seal("pat-na1-abc", "connector:1:access_token")
    assert b"pat-na1-abc" not in sealed.ciphertext
    assert sealed.key_id == vault.primary_key_id
    assert vault.open(sealed, "connector:1:access_token") == "pat-na1-abc"
    # the same value sealed twice looks different (fresh nonce)
    assert vault.seal("pat-na1-abc", "a").ciphertext != vault.seal("pat-na1-abc", "a").ciphertext


@pytest.mark.parametrize("other_aad", ["connector:2:access_token", "connector:1:api_key", ""])
def test_a_ciphertext_moved_to_another_row_does_not_open(other_aad: str) -> None:
    vault = Vault(os.urandom(32))
    sealed = vault.seal("pat-na1-abc", "connector:1:access_token")
    with pytest.raises(ConfigurationError) as caught:
        vault.open(sealed, other_aad)
    assert "integrity" in str(caught.value)
    assert "pat-na1-abc" not in str(caught.value)


def test_a_secret_sealed_with_an_unknown_key_names_the_fix() -> None:
    sealed = Vault(os.urandom(32)).seal("pat-na1-abc", "a")
    with pytest.raises(ConfigurationError) as caught:
        Vault(os.urandom(32)).open(sealed, "a")
    assert "key" in caught.value.message
    assert "re-enter" in caught.value.fix


@pytest.mark.parametrize("length", [0, 16, 31, 33, 64])
def test_a_key_of_the_wrong_length_is_refused(length: int) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Vault(os.urandom(length))
    assert "32" in str(caught.value)


# --- the key file and SWITCHBOARD_SECRET_KEY -------------------------------------------------


def test_key_file_is_created_private_and_reused(data_dir: Path) -> None:
    key_file = data_dir / "secret.key"
    assert not key_file.exists()
    first = load_vault(load_settings())
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    contents = key_file.read_text()
    second = load_vault(load_settings())
    assert second.primary_key_id == first.primary_key_id
    assert key_file.read_text() == contents
    assert second.open(first.seal("pat-na1-x", "a"), "a") == "pat-na1-x"


def test_processes_starting_together_agree_on_one_key(data_dir: Path) -> None:
    settings = load_settings()
    start = threading.Barrier(8)
    key_ids: list[str] = []

    def start_up() -> None:
        start.wait()
        key_ids.append(load_vault(settings).primary_key_id)

    threads = [threading.Thread(target=start_up) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    on_disk = load_vault(settings).primary_key_id
    assert key_ids == [on_disk] * 8
    assert sorted(p.name for p in data_dir.iterdir()) == ["secret.key"]


@pytest.mark.parametrize(
    "contents",
    [
        b"not a key",
        b"",
        base64.b64encode(b"short"),
        b"!!!!" * 11,
        b"\xff\xfe" + bytes(range(128, 170)),
    ],
)
def test_a_corrupt_key_file_names_the_file_and_the_fix(data_dir: Path, contents: bytes) -> None:
    key_file = data_dir / "secret.key"
    data_dir.mkdir(parents=True)
    key_file.write_bytes(contents)
    with pytest.raises(ConfigurationError) as caught:
        load_vault(load_settings())
    assert str(key_file) in caught.value.message
    assert "python -m core.vault new-key" in caught.value.fix
    # the damaged file is left alone for the person to inspect
    assert key_file.read_bytes() == contents


@pytest.mark.parametrize(
    "value",
    [
        base64.b64encode(os.urandom(16)).decode(),
        base64.b64encode(os.urandom(48)).decode(),
        "correct horse battery staple",
    ],
)
def test_a_wrong_secret_key_variable_is_rejected(
    monkeypatch: pytest.MonkeyPatch, data_dir: Path, value: str
) -> None:
    monkeypatch.setenv("SWITCHBOARD_SECRET_KEY", value)
    with pytest.raises(ConfigurationError) as caught:
        open_workspace(load_settings())
    assert "SWITCHBOARD_SECRET_KEY" in str(caught.value)
    assert value not in str(caught.value)
    assert not (data_dir / "secret.key").exists()


def test_the_secret_key_variable_is_used_instead_of_a_file(
    monkeypatch: pytest.MonkeyPatch, data_dir: Path
) -> None:
    key = new_key_text()
    monkeypatch.setenv("SWITCHBOARD_SECRET_KEY", key)
    ws = open_workspace(load_settings())
    assert ws.vault.primary_key_id == key_id(base64.b64decode(key))
    assert not (data_dir / "secret.key").exists()


# --- rotation ---------------------------------------------------------------------------


def test_rotation_with_a_key_file(ws: Workspace, catalog: Catalog, data_dir: Path) -> None:
    expected = _two_connectors(ws, catalog)
    old_id = ws.vault.primary_key_id

    assert connector_secrets.rotate_secrets(ws, actor="admin") == 2

    assert not (data_dir / "secret.key.new").exists()
    assert stat.S_IMODE((data_dir / "secret.key").stat().st_mode) == 0o600
    again = _reopen()
    assert again.vault.primary_key_id != old_id
    assert _stored_key_ids(again) == {again.vault.primary_key_id}
    _assert_all_open(again, expected, catalog)
    with read_session(again.engine) as session:
        entries = session.exec(select(AuditEntry).where(AuditEntry.action == "rotate_key")).all()
    assert [(e.actor, e.entity) for e in entries] == [("admin", "vault")]
    assert again.vault.primary_key_id in entries[0].summary


def test_rotation_with_key_variables(monkeypatch: pytest.MonkeyPatch, catalog: Catalog) -> None:
    old_key, new_key = new_key_text(), new_key_text()
    monkeypatch.setenv("SWITCHBOARD_SECRET_KEY", old_key)
    ws = open_workspace(load_settings())
    expected = _two_connectors(ws, catalog)

    monkeypatch.setenv("SWITCHBOARD_NEW_SECRET_KEY", new_key)
    assert connector_secrets.rotate_secrets(ws, actor="admin") == 2
    new_id = key_id(base64.b64decode(new_key))
    assert _stored_key_ids(ws) == {new_id}

    # between the rotation and the swap, both keys are known
    _assert_all_open(_reopen(), expected, catalog)
    # after the swap, the new key alone opens everything
    monkeypatch.setenv("SWITCHBOARD_SECRET_KEY", new_key)
    monkeypatch.delenv("SWITCHBOARD_NEW_SECRET_KEY")
    swapped = _reopen()
    assert swapped.vault.primary_key_id == new_id
    _assert_all_open(swapped, expected, catalog)
    # and the old key alone no longer does
    monkeypatch.setenv("SWITCHBOARD_SECRET_KEY", old_key)
    with pytest.raises(ConfigurationError):
        load_connection(_reopen(), next(iter(expected)), catalog)


def test_rotation_with_a_key_variable_needs_the_new_key(
    monkeypatch: pytest.MonkeyPatch,
    catalog: Catalog,
) -> None:
    monkeypatch.setenv("SWITCHBOARD_SECRET_KEY", new_key_text())
    ws = open_workspace(load_settings())
    expected = _two_connectors(ws, catalog)
    with pytest.raises(ConfigurationError) as caught:
        connector_secrets.rotate_secrets(ws, actor="admin")
    assert "SWITCHBOARD_NEW_SECRET_KEY" in str(caught.value)
    _assert_all_open(ws, expected, catalog)
    assert count_rows(ws, "audit_entries") == 2


def test_a_crash_before_the_store_commits_loses_nothing(
    ws: Workspace,
    catalog: Catalog,
    data_dir: Path,
) -> None:
    expected = _two_connectors(ws, catalog)
    old_id = ws.vault.primary_key_id
    prepare_rotation(ws.settings)  # wrote secret.key.new, then the process died
    assert (data_dir / "secret.key.new").exists()

    restarted = _reopen()
    assert restarted.vault.primary_key_id == old_id
    _assert_all_open(restarted, expected, catalog)

    # running the rotation again finishes the job
    assert connector_secrets.rotate_secrets(restarted, actor="admin") == 2
    assert not (data_dir / "secret.key.new").exists()
    _assert_all_open(_reopen(), expected, catalog)


def test_a_crash_after_the_store_commits_loses_nothing(
    ws: Workspace,
    catalog: Catalog,
    data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    expected = _two_connectors(ws, catalog)

    def die(_settings: object) -> None:
        raise KeyboardInterrupt

    with monkeypatch.context() as patched:
        patched.setattr("core.vault.finish_rotation", die)
        with pytest.raises(KeyboardInterrupt):
            connector_secrets.rotate_secrets(ws, actor="admin")
    assert (data_dir / "secret.key.new").exists()

    restarted = _reopen()
    _assert_all_open(restarted, expected, catalog)
    assert connector_secrets.rotate_secrets(restarted, actor="admin") == 2
    _assert_all_open(_reopen(), expected, catalog)


# --- no secret readable at rest -----------------------------------------------------------


def _forms(secret: str) -> list[bytes]:
    """The secret as it could appear on disk: plain, UTF-16, and base64 in any alignment."""
    raw = secret.encode()
    forms = [raw, secret.encode("utf-16-le"), raw.hex().encode()]
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + raw)
        forms.append(encoded[4 : len(encoded) - 4])  # the part that does not depend on neighbours
        forms.append(base64.urlsafe_b64encode(b"\0" * shift + raw)[4:-4])
    return forms


def test_a_secret_is_nowhere_readable_in_the_store(ws: Workspace, data_dir: Path) -> None:
    form = ConnectorInput(
        name="HubSpot",
        template_id="hubspot",
        base_url="https://api.hubapi.com",
        values={"access_token": HUBSPOT_SECRET},
    )
    view = create_connector(ws, ADMIN, form, default_catalog())
    assert view.secret_hints == {"access_token": "••••3456"}
    assert HUBSPOT_SECRET not in repr(view)
    assert load_connection(ws, view.id).values["access_token"] == HUBSPOT_SECRET

    db_file = data_dir / "switchboard.db"
    wal_file = data_dir / "switchboard.db-wal"
    assert wal_file.exists()
    for path in (db_file, wal_file):
        contents = path.read_bytes()
        for form_bytes in _forms(HUBSPOT_SECRET):
            assert form_bytes not in contents, (path.name, form_bytes)
    # and after the log is copied into the main file
    with ws.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    contents = db_file.read_bytes()
    assert not any(form_bytes in contents for form_bytes in _forms(HUBSPOT_SECRET))

    with ws.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT summary, before_json, after_json FROM audit_entries")
        ).all()
    assert rows
    for row in rows:
        for value in row:
            assert "SUPERSECRET" not in value
            assert "123456" not in value
    assert json.loads(rows[0].after_json)["secrets"] == {"access_token": "••••3456"}


def test_a_running_process_follows_a_rotation_done_by_another(ws):
    """The app keeps running while an operator rotates the key from the command line."""
    from core.connectors.registry import ConnectorInput, create_connector, load_connection
    from core.connectors.secrets import rotate_secrets
    from core.vault import load_vault
    from core.workspace import Workspace
    from tests.conftest import ADMIN

    before = create_connector(
        ws,
        ADMIN,
        ConnectorInput(
            "Before", "stripe", "https://api.stripe.com", {"secret_key": "sk_test_before_rotation"}
        ),
    )
    operator = Workspace(ws.settings, ws.engine, load_vault(ws.settings))
    rotate_secrets(operator, actor="cli")
    # the app's vault was loaded before the rotation: it still opens every secret ...
    assert load_connection(ws, before.id).values["secret_key"] == "sk_test_before_rotation"
    # ... and seals new ones with the new key, which a restart can read
    after = create_connector(
        ws,
        ADMIN,
        ConnectorInput(
            "After", "stripe", "https://api.stripe.com", {"secret_key": "sk_test_after_rotation"}
        ),
    )
    restarted = Workspace(ws.settings, ws.engine, load_vault(ws.settings))
    assert load_connection(restarted, after.id).values["secret_key"] == "sk_test_after_rotation"
    assert load_connection(restarted, before.id).values["secret_key"] == "sk_test_before_rotation"


def test_rotation_also_reseals_alert_channel_secrets(ws):
    """A Slack webhook URL stored for alerts still opens after the key is rotated."""
    from core.alert_channels import ChannelInput, open_secret, save_channel
    from core.connectors.secrets import rotate_secrets
    from core.vault import load_vault
    from core.workspace import Workspace
    from db.engine import read_session
    from db.monitoring import AlertChannel
    from tests.conftest import ADMIN

    url = "https://hooks.slack.com/services/T000/B000/abcdefghijklmnop"
    channel_id = save_channel(ws, ADMIN, ChannelInput("Ops Slack", "slack", secret=url))
    assert rotate_secrets(ws, actor="cli") == 1
    restarted = Workspace(ws.settings, ws.engine, load_vault(ws.settings))
    with read_session(ws.engine) as session:
        channel = session.get(AlertChannel, channel_id)
        assert channel.secret_key_id == restarted.vault.primary_key_id
        assert open_secret(restarted.vault, channel) == url
