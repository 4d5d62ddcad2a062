"""The store on SQLite and on a real PostgreSQL server: schema, constraints, round trips,
concurrent audited writes, and what a wrong DATABASE_URL tells the person."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from core import audit
from core.connectors.catalog import Catalog
from core.connectors.registry import (
    create_connector,
    delete_connector,
    get_connector,
    list_connectors,
    load_connection,
    update_connector,
)
from core.errors import ConfigurationError, InputError, NotFound
from core.integrations import IntegrationInput, create_integration, list_integrations
from core.settings import load_settings
from core.systems import (
    SystemInput,
    create_system,
    delete_system,
    get_system,
    list_systems,
    update_system,
)
from core.workspace import Workspace, open_workspace
from db import migrate
from db.engine import dispose_engines, read_session
from tests.conftest import ADMIN, EDITOR
from tests.core.conftest import OTHER_TOKEN, TOKEN, count_rows, token_input

TABLES = {
    "users",
    "systems",
    "connectors",
    "connector_secrets",
    "integrations",
    "audit_entries",
    "audit_head",
    "worker_heartbeats",
}


def _flow(source: int, destination: int, name: str = "Leads to MAP") -> IntegrationInput:
    return IntegrationInput(
        name=name,
        source_system_id=source,
        destination_system_id=destination,
        data="Leads",
        frequency="hourly",
        method="api",
    )


def test_migrations_create_every_table(store_ws: Workspace) -> None:
    assert TABLES <= set(inspect(store_ws.engine).get_table_names())
    assert count_rows(store_ws, "audit_head") == 1


def test_opening_twice_migrates_once_and_keeps_data(store_ws: Workspace) -> None:
    create_system(store_ws, ADMIN, SystemInput("HubSpot CRM", "crm"))
    migrate.upgrade(store_ws.engine)
    dispose_engines()
    again = open_workspace(load_settings())

    assert [s.name for s in list_systems(again, ADMIN)] == ["HubSpot CRM"]
    from alembic.script import ScriptDirectory
    from sqlalchemy import text as sql

    heads = set(ScriptDirectory.from_config(migrate.alembic_config(again.engine)).get_heads())
    with again.engine.connect() as conn:
        applied = {row[0] for row in conn.execute(sql("SELECT version_num FROM alembic_version"))}
    assert applied == heads
    assert count_rows(again, "audit_head") == 1
    with read_session(again.engine) as session:
        assert audit.verify_chain(session).ok


def test_sqlite_uses_wal_and_foreign_keys(ws: Workspace) -> None:
    with ws.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar_one().lower() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar_one() == 1


def test_foreign_keys_are_enforced(store_ws: Workspace) -> None:
    with pytest.raises(IntegrityError), store_ws.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO connector_secrets "
                "(connector_id, field_name, nonce, ciphertext, key_id, last4, updated_at) "
                "VALUES (999, 'token', :b, :b, 'k', '', CURRENT_TIMESTAMP)"
            ),
            {"b": b"x"},
        )
    assert count_rows(store_ws, "connector_secrets") == 0


def test_system_round_trip(store_ws: Workspace) -> None:
    created = create_system(
        store_ws, EDITOR, SystemInput("HubSpot CRM", "crm", vendor=" HubSpot ", pii_cleared=True)
    )
    read = get_system(store_ws, ADMIN, created.id)
    assert (read.name, read.category, read.vendor, read.pii_cleared) == (
        "HubSpot CRM",
        "crm",
        "HubSpot",
        True,
    )

    update_system(store_ws, EDITOR, created.id, SystemInput("HubSpot", "map", vendor="HubSpot"))
    read = get_system(store_ws, ADMIN, created.id)
    assert (read.name, read.category, read.pii_cleared) == ("HubSpot", "map", False)

    delete_system(store_ws, EDITOR, created.id)
    with pytest.raises(NotFound):
        get_system(store_ws, ADMIN, created.id)
    assert list_systems(store_ws, ADMIN) == []


def test_connector_round_trip(store_ws: Workspace, catalog: Catalog) -> None:
    system = create_system(store_ws, EDITOR, SystemInput("CRM", "crm"))
    view = create_connector(
        store_ws,
        EDITOR,
        token_input(system_id=system.id, base_url="https://api.example.com/"),
        catalog,
    )
    read = get_connector(store_ws, EDITOR, view.id, catalog)
    assert read.base_url == "https://api.example.com"
    assert read.system_name == "CRM"
    assert read.values == {"account_id": "12345", "region": "eu"}
    assert read.secret_hints == {"access_token": "••••1111"}
    assert load_connection(store_ws, view.id, catalog).values["access_token"] == TOKEN

    changed = token_input(
        "Renamed CRM",
        values={"access_token": OTHER_TOKEN, "account_id": "777", "region": "us"},
    )
    update_connector(store_ws, EDITOR, view.id, changed, catalog)
    read = get_connector(store_ws, EDITOR, view.id, catalog)
    assert (read.name, read.values["account_id"], read.system_id) == ("Renamed CRM", "777", None)
    assert load_connection(store_ws, view.id, catalog).values["access_token"] == OTHER_TOKEN

    delete_connector(store_ws, EDITOR, view.id)
    assert list_connectors(store_ws, EDITOR, catalog) == []
    assert count_rows(store_ws, "connector_secrets") == 0


def test_deleting_a_system_unlinks_its_connectors(store_ws: Workspace, catalog: Catalog) -> None:
    system = create_system(store_ws, EDITOR, SystemInput("CRM", "crm"))
    view = create_connector(store_ws, EDITOR, token_input(system_id=system.id), catalog)
    delete_system(store_ws, EDITOR, system.id)
    assert get_connector(store_ws, EDITOR, view.id, catalog).system_id is None


def test_integration_round_trip(store_ws: Workspace) -> None:
    crm = create_system(store_ws, EDITOR, SystemInput("CRM", "crm"))
    mail = create_system(store_ws, EDITOR, SystemInput("MAP", "map"))
    flow = create_integration(store_ws, EDITOR, _flow(crm.id, mail.id))
    rows = list_integrations(store_ws, EDITOR)
    assert [(r.id, r.name, r.source, r.destination, r.frequency, r.method) for r in rows] == [
        (flow.id, "Leads to MAP", "CRM", "MAP", "Hourly", "API")
    ]


def test_integration_bad_input_reports_every_field(store_ws: Workspace) -> None:
    crm = create_system(store_ws, EDITOR, SystemInput("CRM", "crm"))
    bad = IntegrationInput(
        name=" ",
        source_system_id=crm.id,
        destination_system_id=crm.id,
        data="",
        frequency="monthly",
        method="fax",
    )
    with pytest.raises(InputError) as caught:
        create_integration(store_ws, EDITOR, bad)
    assert {p.field for p in caught.value.problems} == {
        "Name",
        "Data",
        "Frequency",
        "Method",
        "Destination",
    }
    assert count_rows(store_ws, "integrations") == 0


def test_deleting_a_system_used_by_a_flow_is_refused(store_ws: Workspace) -> None:
    crm = create_system(store_ws, EDITOR, SystemInput("CRM", "crm"))
    mail = create_system(store_ws, EDITOR, SystemInput("MAP", "map"))
    create_integration(store_ws, EDITOR, _flow(crm.id, mail.id, "Leads to MAP"))
    entries = count_rows(store_ws, "audit_entries")

    for system_id in (crm.id, mail.id):
        with pytest.raises(InputError) as caught:
            delete_system(store_ws, EDITOR, system_id)
        assert "Leads to MAP" in str(caught.value)
        assert caught.value.problems[0].field == "System"

    assert {s.name for s in list_systems(store_ws, EDITOR)} == {"CRM", "MAP"}
    assert count_rows(store_ws, "audit_entries") == entries


def test_concurrent_audited_writes_keep_the_chain_intact(store_ws: Workspace) -> None:
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def write(worker: int) -> None:
        try:
            start.wait()
            for n in range(10):
                create_system(store_ws, EDITOR, SystemInput(f"System {worker}-{n}", "other"))
        except BaseException as exc:  # handed to the main thread below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(list_systems(store_ws, EDITOR)) == 40
    with read_session(store_ws.engine) as session:
        report = audit.verify_chain(session)
    assert report.ok, report
    assert report.checked >= 40
    assert report.checked == count_rows(store_ws, "audit_entries")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _assert_plain_message(exc: ConfigurationError, password: str) -> None:
    text_shown = str(exc)
    assert "DATABASE_URL" in text_shown
    assert password not in text_shown
    assert "Traceback" not in text_shown
    assert 'File "' not in text_shown
    assert "sqlalchemy" not in text_shown.lower()


def test_unreachable_database_url_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = f"postgresql://switchboard:hunter2-pw@127.0.0.1:{_closed_port()}/switchboard"
    monkeypatch.setenv("DATABASE_URL", url)
    with pytest.raises(ConfigurationError) as caught:
        open_workspace(load_settings())
    _assert_plain_message(caught.value, "hunter2-pw")
    assert caught.value.__cause__ is None


@pytest.mark.parametrize(
    "url", ["mysql://x", "mysql://root:hunter2-pw@db/switchboard", "not a url at all"]
)
def test_non_database_url_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    with pytest.raises(ConfigurationError) as caught:
        open_workspace(load_settings())
    _assert_plain_message(caught.value, "hunter2-pw")


def test_a_port_that_is_not_a_number_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://switchboard:hunter2-pw@127.0.0.1:abc/sb")
    with pytest.raises(ConfigurationError) as caught:
        open_workspace(load_settings())
    _assert_plain_message(caught.value, "hunter2-pw")


def test_a_data_directory_that_cannot_be_made_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("SWITCHBOARD_DATA_DIR", str(blocker / "data"))
    with pytest.raises(ConfigurationError) as caught:
        open_workspace(load_settings())
    assert "SWITCHBOARD_DATA_DIR" in str(caught.value)


def test_two_people_saving_one_name_at_once_get_a_plain_message(store_ws: Workspace) -> None:
    """Both pass the service's check; the store's case-insensitive unique index stops one."""
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def save(name: str) -> None:
        barrier.wait()
        try:
            create_system(store_ws, EDITOR, SystemInput(name, "crm"))
            outcomes.append("saved")
        except InputError as exc:
            outcomes.append(str(exc))

    threads = [threading.Thread(target=save, args=(n,)) for n in ("CRM", "crm")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes)[-1] == "saved"
    assert outcomes.count("saved") == 1
    assert "Name" in sorted(outcomes)[0]
    assert [s.name.lower() for s in list_systems(store_ws, ADMIN)] == ["crm"]
