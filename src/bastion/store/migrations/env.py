"""Alembic environment: migrates the connection ``Database.upgrade`` passes in.

Run by hand (``alembic -c src/bastion/store/migrations/alembic.ini revision --autogenerate``)
it connects to ``$BASTION_DATABASE_URL`` (default ``sqlite:///bastion.db``).
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Connection

from bastion.store.db import Database
from bastion.store.models import Base


def _migrate(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    # Inside Database.upgrade's transaction this is a no-op: the caller commits.
    with context.begin_transaction():
        context.run_migrations()


def _run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _migrate(connection)
        return
    if context.is_offline_mode():
        raise SystemExit("bastion migrations run online only")
    db = Database(os.environ.get("BASTION_DATABASE_URL", "sqlite:///bastion.db"))
    try:
        with db.engine.connect() as conn:
            _migrate(conn)
            conn.commit()
    finally:
        db.dispose()


_run()
