"""Alembic migrations shipped inside the package, so an installed stsgas can migrate.

:func:`alembic_config` builds the configuration in code (no alembic.ini);
:func:`upgrade` brings a database to the newest revision.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

HERE = Path(__file__).resolve().parent


def alembic_config(url: str, *, engine: Engine | None = None) -> Config:
    """An Alembic config for ``url``; ``engine`` (if given) is reused for the run."""
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if engine is not None:
        cfg.attributes["engine"] = engine
    return cfg


def upgrade(url: str, *, engine: Engine | None = None, revision: str = "head") -> None:
    """Migrate the database at ``url`` up to ``revision``."""
    command.upgrade(alembic_config(url, engine=engine), revision)
