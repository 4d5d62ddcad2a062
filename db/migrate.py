"""Apply the Alembic migrations: Alembic alone creates and changes tables.

The app and the worker both migrate at start, often at the same moment; a lock makes
the second wait for the first (a file lock beside a SQLite file, an advisory lock on
PostgreSQL), then find nothing left to do.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# any fixed number: the advisory lock that serialises migrations on PostgreSQL
_PG_LOCK_KEY = 7_201_611


def alembic_config(engine: Engine) -> Config:
    """An Alembic configuration that runs on ``engine`` (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


@contextmanager
def _exclusive(engine: Engine) -> Iterator[None]:
    if engine.dialect.name == "sqlite" and engine.url.database:
        lock_path = Path(engine.url.database + ".migrate.lock")
        with open(lock_path, "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
    elif engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _PG_LOCK_KEY})
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _PG_LOCK_KEY})
    else:
        yield


def upgrade(engine: Engine) -> None:
    """Bring the store's schema to the newest revision of every branch; safe at every start."""
    with _exclusive(engine):
        command.upgrade(alembic_config(engine), "heads")
