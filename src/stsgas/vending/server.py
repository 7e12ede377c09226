"""Assemble and prepare the full server: API + web console, migrated database, keys.

``stsgas serve`` calls :func:`prepare` then runs :func:`app_from_env` under
uvicorn (as a factory, so ``--workers N`` starts N stateless workers on one
database).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy.engine import make_url

from stsgas.vending import demo, migrations
from stsgas.vending.app import create_app
from stsgas.vending.db import make_engine, make_sessionmaker
from stsgas.vending.keys.master import create_master_key_file, load_master_key
from stsgas.vending.keys.security import SoftwareSecurityModule
from stsgas.vending.settings import Settings


def build_app(settings: Settings) -> FastAPI:
    """The API with the web console and POS pages installed."""
    app = create_app(settings)
    from stsgas.vending import web  # the pages are optional to the API itself

    web.install(app)
    return app


def app_from_env() -> FastAPI:
    """Uvicorn factory: settings from the environment."""
    return build_app(Settings())


def default_key_file(settings: Settings) -> Path:
    """Where a master key is kept when none is configured: beside the SQLite file."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).resolve().parent / "master.key"
    return Path("var/master.key").resolve()


@dataclass(frozen=True, slots=True, kw_only=True)
class Prepared:
    """What :func:`prepare` did, for the start-up message."""

    settings: Settings
    key_file_created: Path | None
    demo_loaded: bool


def prepare(settings: Settings) -> Prepared:
    """Make sure a master key exists, migrate the database, load demo data if asked."""
    created = None
    if load_master_key(settings) is None:
        path = default_key_file(settings)
        existed = path.exists()
        create_master_key_file(path)
        settings = settings.model_copy(update={"master_key_file": path})
        created = None if existed else path
    master = load_master_key(settings)
    assert master is not None
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        migrations.upgrade(settings.database_url, engine=engine)
        loaded = False
        if settings.demo:
            with make_sessionmaker(engine).begin() as session:
                loaded = demo.load(session, SoftwareSecurityModule(master))
    finally:
        engine.dispose()
    return Prepared(settings=settings, key_file_created=created, demo_loaded=loaded)
