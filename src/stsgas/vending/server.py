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
from sqlalchemy.orm import Session

from stsgas.vending import demo, migrations, transaction
from stsgas.vending.app import create_app
from stsgas.vending.db import make_engine, make_sessionmaker
from stsgas.vending.keys import custody
from stsgas.vending.keys.master import create_master_key_file, load_master_key
from stsgas.vending.keys.security import (
    KeyCustodyError,
    KeyRef,
    SecurityModule,
    SoftwareSecurityModule,
)
from stsgas.vending.operators.repository import OperatorRepository
from stsgas.vending.settings import Settings
from stsgas.vending.supply_groups.repository import SupplyGroupRepository


class StartRefused(Exception):
    """The server must not start; the message is one line for whoever starts it."""


def build_app(settings: Settings) -> FastAPI:
    """The API with the web console and POS pages installed."""
    app = create_app(settings)
    from stsgas.vending import web  # the pages are optional to the API itself

    web.install(app)
    return app


def app_from_env() -> FastAPI:
    """Uvicorn factory: settings from the environment."""
    return build_app(Settings())


def default_key_file(settings: Settings) -> Path | None:
    """Where a master key is kept when none is configured: beside the SQLite file.

    None for PostgreSQL (and an in-memory SQLite): there the key's location is
    required configuration, never a guess relative to the working folder.
    """
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).resolve().parent / "master.key"
    return None


@dataclass(frozen=True, slots=True, kw_only=True)
class Prepared:
    """What :func:`prepare` did, for the start-up message."""

    settings: Settings
    key_file_created: Path | None
    demo_loaded: bool
    #: the database holds an admin account (else only ``--demo`` or ``stsgas init`` help)
    has_admin: bool


def _configured_key(settings: Settings) -> bytes | None:
    try:
        return load_master_key(settings)
    except OSError as exc:
        raise StartRefused(
            f"cannot read the master key file {settings.master_key_file}: {exc.strerror}"
        ) from None
    except KeyCustodyError as exc:
        raise StartRefused(str(exc)) from None


def check_master_key(session: Session, master: bytes) -> None:
    """Refuse a master key that does not open every vending key the database holds."""
    module = SoftwareSecurityModule(master)
    for group in SupplyGroupRepository(session).all():
        try:
            module.check(KeyRef(sgc=group.sgc, krn=group.krn), group.vending_key_enc)
        except KeyCustodyError:
            raise StartRefused(
                f"the master key does not open the vending key of supply group "
                f"{group.sgc}/KRN {group.krn}: start with the master key the database's "
                "keys were made under (STSGAS_MASTER_KEY_FILE)"
            ) from None


def check_hsm_keys(session: Session, module: SecurityModule) -> None:
    """Refuse an HSM token that does not hold every vending key the database names."""
    for group in SupplyGroupRepository(session).all():
        try:
            module.check(KeyRef(sgc=group.sgc, krn=group.krn), group.vending_key_enc)
        except KeyCustodyError as exc:
            raise StartRefused(
                f"the HSM does not hold the vending key of supply group {group.sgc}/KRN "
                f"{group.krn}: {exc}"
            ) from None


def _prepare_hsm(settings: Settings) -> Prepared:
    """:func:`prepare` with the keys in a PKCS#11 token: no master key at all."""
    try:
        module = custody.open_hsm(settings)
    except KeyCustodyError as exc:
        raise StartRefused(str(exc)) from None
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        migrations.upgrade(settings.database_url, engine=engine)
        with make_sessionmaker(engine)() as session:
            check_hsm_keys(session, module)
        loaded = False
        if settings.demo:
            loaded = transaction.run_in(make_sessionmaker(engine), lambda s: demo.load(s, module))
        with make_sessionmaker(engine)() as session:
            admin = OperatorRepository(session).admin_count() > 0
    finally:
        engine.dispose()
    return Prepared(settings=settings, key_file_created=None, demo_loaded=loaded, has_admin=admin)


def prepare(settings: Settings) -> Prepared:
    """Migrate the database, make sure the master key opens its vending keys (a new
    key only for a database that holds none), or that the HSM holds them, load demo
    data if asked.

    Raises :class:`StartRefused` when the server must not start.
    """
    if custody.uses_hsm(settings):
        return _prepare_hsm(settings)
    master = _configured_key(settings)
    path = None if master is not None else default_key_file(settings)
    if master is None and path is None:
        raise StartRefused(
            "set STSGAS_MASTER_KEY_FILE (or STSGAS_MASTER_KEY): on this database the "
            "master key's location is required configuration"
        )
    engine = make_engine(settings.database_url, pool_size=1)
    created = None
    try:
        migrations.upgrade(settings.database_url, engine=engine)
        with make_sessionmaker(engine)() as session:
            if master is None:
                assert path is not None
                if not path.exists() and SupplyGroupRepository(session).all():
                    raise StartRefused(
                        f"no master key at {path}, but the database holds vending keys: "
                        "set STSGAS_MASTER_KEY_FILE to the key they were made under"
                    )
                created = None if path.exists() else path
                try:
                    master = create_master_key_file(path)
                except KeyCustodyError as exc:
                    raise StartRefused(str(exc)) from None
                settings = settings.model_copy(update={"master_key_file": path})
            check_master_key(session, master)
        loaded = False
        if settings.demo:
            module = SoftwareSecurityModule(master)
            loaded = transaction.run_in(make_sessionmaker(engine), lambda s: demo.load(s, module))
        with make_sessionmaker(engine)() as session:
            admin = OperatorRepository(session).admin_count() > 0
    finally:
        engine.dispose()
    return Prepared(
        settings=settings, key_file_created=created, demo_loaded=loaded, has_admin=admin
    )
