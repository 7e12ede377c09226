"""The request-scoped session: the one transaction boundary of the API.

``get_session`` commits when the endpoint returns and rolls back when it
raises. It runs with ``scope="function"``, so the commit happens *before*
the response is sent: a client never sees a token whose sale is not
committed. Services and repositories never commit. On SQLite, GET requests
open a DEFERRED transaction (no write lock); everything else is IMMEDIATE.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from stsgas.vending.errors import NoMasterKey
from stsgas.vending.keys.security import SecurityModule
from stsgas.vending.settings import Settings

_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def begin_read(session: Session) -> None:
    """Open the session's transaction as a reader: on SQLite ``BEGIN DEFERRED``, so it
    does not take the database's one write lock (writers go on meanwhile)."""
    if session.get_bind().dialect.name == "sqlite":
        session.connection(execution_options={"sqlite_begin": "DEFERRED"})


def get_session(request: Request) -> Iterator[Session]:
    """Yield a session in a transaction; commit on success, roll back on error."""
    session: Session = request.app.state.sessionmaker()
    try:
        if request.method in _READ_METHODS:
            begin_read(session)
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def get_settings(request: Request) -> Settings:
    """The app's settings."""
    settings: Settings = request.app.state.settings
    return settings


def get_security_module(request: Request) -> SecurityModule:
    """The key custody module (503 when no master key is configured)."""
    module: SecurityModule | None = request.app.state.security_module
    if module is None:
        raise NoMasterKey("no master key configured (STSGAS_MASTER_KEY or _FILE)")
    return module


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings)]
SecurityModuleDep = Annotated[SecurityModule, Depends(get_security_module)]
