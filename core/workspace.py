"""Opening Switchboard's workspace: settings, the store (migrated) and the vault together."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlalchemy.engine.url import make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, OperationalError
from sqlmodel import Session

from core.errors import ConfigurationError, InputError
from core.settings import Settings, load_settings
from core.vault import Vault, load_vault
from db import migrate
from db.engine import get_engine, write_session


@dataclass(frozen=True)
class Workspace:
    """What every core service needs: where the data lives and how secrets are sealed."""

    settings: Settings
    engine: Engine
    vault: Vault


def _describe(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "(unreadable)"


def open_store(settings: Settings) -> Engine:
    """The engine, with the schema migrated to the newest revision.

    A store that cannot be reached becomes a ConfigurationError naming DATABASE_URL.
    """
    try:
        engine = get_engine(settings.database_url)
        migrate.upgrade(engine)
    except (ArgumentError, ValueError):
        raise ConfigurationError(
            f"DATABASE_URL ({_describe(settings.database_url)}) is not a valid database URL.",
            fix="Use postgresql://USER:PASSWORD@HOST:5432/DATABASE, or unset DATABASE_URL.",
        ) from None
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else "no answer"
        setting = "DATABASE_URL" if not settings.is_sqlite else "SWITCHBOARD_DATA_DIR"
        raise ConfigurationError(
            f"The store at {_describe(settings.database_url)} cannot be opened: {reason}.",
            fix=f"Check {setting}: the host, port, user name, password and database name, and "
            "that the database server is running and reachable.",
        ) from None
    except OSError as exc:
        raise ConfigurationError(
            f"The store's folder cannot be used ({exc.strerror or exc}).",
            fix="Point SWITCHBOARD_DATA_DIR (or the sqlite path in DATABASE_URL) at a "
            "folder Switchboard may create and write.",
        ) from None
    return engine


@contextmanager
def transaction(ws: Workspace) -> Iterator[Session]:
    """A write transaction for a ``core`` service: commits on success, rolls back on error.

    Two people saving the same name at the same moment both pass the service's own
    check; the store's unique index stops the second, and this says so in plain words.
    """
    try:
        with write_session(ws.engine) as session:
            yield session
    except IntegrityError as exc:
        said = str(exc.orig).lower()
        if "unique" not in said or "name" not in said:
            raise  # not a name clash: the caller decides (a lease taken by another worker)
        raise InputError.one(
            "Name", "was saved by someone else a moment ago; pick another name."
        ) from None


def open_workspace(settings: Settings | None = None) -> Workspace:
    """Settings from the environment, the migrated store and the vault."""
    settings = settings or load_settings()
    try:
        settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigurationError(
            f"SWITCHBOARD_DATA_DIR ({settings.data_dir}) cannot be created "
            f"({exc.strerror or exc}).",
            fix="Set SWITCHBOARD_DATA_DIR to a folder Switchboard may create and write.",
        ) from None
    engine = open_store(settings)
    return Workspace(settings=settings, engine=engine, vault=load_vault(settings))


def main() -> int:
    """``python -m core.workspace``: migrate the configured store and exit."""
    import sys

    try:
        ws = open_workspace()
    except ConfigurationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"Store ready: {ws.engine.url.render_as_string(hide_password=True)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
