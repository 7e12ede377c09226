"""Alembic environment: online migrations on the stsgas engine (SQLite or PostgreSQL)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

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
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                render_as_batch=connection.dialect.name == "sqlite",
                compare_type=True,
            )
            with context.begin_transaction():
                context.run_migrations()
            connection.commit()
    finally:
        if own:
            engine.dispose()


run_migrations_online()
