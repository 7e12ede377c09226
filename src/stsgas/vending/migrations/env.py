"""Alembic environment: online migrations on the stsgas engine (SQLite or PostgreSQL)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, Engine

from stsgas.vending.db import make_engine
from stsgas.vending.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    """Run on a given engine (tests, ``stsgas serve``) or one made from the URL."""
    given: Engine | None = config.attributes.get("engine")
    own = given is None
    engine = given or make_engine(config.get_main_option("sqlalchemy.url") or "", pool_size=1)
    try:
        with engine.connect() as connection:
            sqlite = connection.dialect.name == "sqlite"
            if sqlite:  # see _foreign_keys_checked_at_the_end
                _pragma(connection, "foreign_keys = OFF")
            try:
                context.configure(
                    connection=connection,
                    target_metadata=target_metadata,
                    render_as_batch=sqlite,
                    # SQLite's DDL is transactional too: one transaction for the whole
                    # run, so a failed revision (or the check below) leaves nothing half done
                    transactional_ddl=True,
                    compare_type=True,
                )
                with context.begin_transaction():
                    context.run_migrations()
                if sqlite:
                    _foreign_keys_checked_at_the_end(connection)
                connection.commit()
            finally:
                if sqlite:
                    connection.rollback()
                    _pragma(connection, "foreign_keys = ON")
    finally:
        if own:
            engine.dispose()


def _pragma(connection: Connection, setting: str) -> None:
    """A pragma on the driver's connection, outside any transaction (SQLAlchemy's
    would first send the engine's ``BEGIN IMMEDIATE``, and SQLite ignores a change of
    ``foreign_keys`` inside a transaction)."""
    connection.connection.driver_connection.execute(f"PRAGMA {setting}")  # type: ignore[union-attr]


def _foreign_keys_checked_at_the_end(connection: Connection) -> None:
    """SQLite changes a constraint by rebuilding the table (batch mode): it drops the
    old table, which rows of other tables reference, so with foreign keys on the
    drop fails on any database that holds data. They are off while migrating (a
    pragma outside the transaction) and checked here, before the run's one commit
    (``transactional_ddl``), instead: a broken reference rolls the whole run back."""
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        raise RuntimeError(f"the migration left rows that reference nothing: {broken[:5]}")


run_migrations_online()
