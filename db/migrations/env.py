"""Alembic environment: runs on the engine handed over by ``db.migrate``."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import db.dictionary  # noqa: F401
import db.evaluations  # noqa: F401
import db.governance  # noqa: F401
import db.models  # noqa: F401  (registers the tables on SQLModel.metadata)
import db.monitoring  # noqa: F401

target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    engine = context.config.attributes["engine"]
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
