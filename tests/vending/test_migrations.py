"""The Alembic migrations build the schema the models describe, on both backends."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

from stsgas.vending.migrations import alembic_config
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
