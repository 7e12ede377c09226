"""The Alembic migrations build the schema the models describe, on both backends."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect
from sqlalchemy.exc import IntegrityError

from stsgas.vending.db import make_engine
from stsgas.vending.migrations import alembic_config, upgrade
from stsgas.vending.models import Base


def test_upgraded_schema_matches_models(engine: Engine) -> None:
    """Autogenerate finds no difference between the migrated DB and the models."""
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(ctx, Base.metadata) == []


def test_every_model_table_exists(engine: Engine) -> None:
    """Each model's table was created by the migrations."""
    names = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= names


def test_database_is_at_head(engine: Engine, db_url: str) -> None:
    """The migrated database carries the newest revision."""
    head = ScriptDirectory.from_config(alembic_config(db_url)).get_current_head()
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == head


def test_downgrade_to_base_and_up_again(engine: Engine, db_url: str) -> None:
    """Downgrade removes every table and a new upgrade restores them."""
    cfg = alembic_config(db_url, engine=engine)
    command.downgrade(cfg, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    command.upgrade(cfg, "head")
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())


def test_sqlite_migrations_rebuild_referenced_tables_and_leave_foreign_keys_on(
    tmp_path: Path,
) -> None:
    """SQLite migrates with foreign keys off (0017 rebuilds ``sales``, which other rows
    reference: ``tests/vending/ussd/test_channel.py`` migrates one holding sales with
    tokens and journals) and checks them before its one commit; the engine's connection
    (reused: one in the pool) has them on, and enforced, again after."""
    url = f"sqlite:///{tmp_path / 'fk.db'}"
    engine = make_engine(url, pool_size=1)
    try:
        upgrade(url, engine=engine, revision="0016")
        with engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO accounts (code, name, kind, created_at) "
                "VALUES ('x', 'x', 'asset', CURRENT_TIMESTAMP)"
            )
            conn.exec_driver_sql(
                "INSERT INTO ledger_entries (journal, account_id, sale_id, debit, credit, memo, "
                "created_at) VALUES ('j', 1, NULL, 1, 0, '', CURRENT_TIMESTAMP)"
            )
        upgrade(url, engine=engine)
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
            with pytest.raises(IntegrityError):  # and they are enforced
                conn.exec_driver_sql(
                    "INSERT INTO ledger_entries (journal, account_id, debit, credit, memo, "
                    "created_at) VALUES ('j', 999, 1, 0, '', CURRENT_TIMESTAMP)"
                )
    finally:
        engine.dispose()
