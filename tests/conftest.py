"""Shared fixtures: every test runs in its own temporary data directory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from core.permissions import Actor, Role
from core.settings import load_settings
from core.workspace import Workspace, open_workspace
from db.engine import dispose_engines
from tests import pg_server

ADMIN_PASSWORD = "admin-password-1"
ADMIN = Actor("admin", Role.ADMIN)
EDITOR = Actor("editor", Role.EDITOR)
VIEWER = Actor("viewer", Role.VIEWER)

_ENV_TO_CLEAR = (
    "DATABASE_URL",
    "SWITCHBOARD_SECRET_KEY",
    "SWITCHBOARD_NEW_SECRET_KEY",
    "SWITCHBOARD_SESSION_TIMEOUT_MINUTES",
    "SWITCHBOARD_SANDBOX_URL",
)


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh data directory and a clean environment for each test."""
    directory = tmp_path / "data"
    monkeypatch.setenv("SWITCHBOARD_DATA_DIR", str(directory))
    monkeypatch.setenv("SWITCHBOARD_ADMIN_PASSWORD", ADMIN_PASSWORD)
    # bcrypt's lowest cost: the tests create and sign in hundreds of accounts
    monkeypatch.setenv("SWITCHBOARD_PASSWORD_HASH_ROUNDS", "4")
    for name in _ENV_TO_CLEAR:
        monkeypatch.delenv(name, raising=False)
    yield directory
    dispose_engines()


@pytest.fixture
def ws() -> Workspace:
    """A migrated SQLite workspace in the test's data directory."""
    return open_workspace(load_settings())


@pytest.fixture(scope="session")
def postgres() -> Iterator[pg_server.PgServer]:
    server = pg_server.start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_ws(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """The same test on SQLite and on a real PostgreSQL server."""
    if request.param == "postgresql":
        server = request.getfixturevalue("postgres")
        monkeypatch.setenv("DATABASE_URL", server.new_database())
    return open_workspace(load_settings())
