"""The request-scoped session of the API: where a request's transaction ends.

A read (GET, HEAD, OPTIONS) opens its transaction as a reader
(:func:`stsgas.vending.transaction.read_only`: on SQLite ``BEGIN DEFERRED``,
no write lock) and ends it with a rollback: it has nothing to commit. Any
other request commits when the endpoint returns and rolls back when it
raises. A unit that must be retried (a sale, a cancel, a management request)
commits through :func:`stsgas.vending.transaction.run` before it returns, so
this commit finds nothing left of it; what an endpoint wrote without ``run``
(a customer, a tariff) is committed here, plainly: ``run`` calls its unit
again after a retryable failure, and an endpoint that has already returned
cannot be called again from here. ``get_session`` runs with
``scope="function"``, so either happens *before* the response is sent: a
client never sees an answer whose rows are not committed. Services and
repositories never commit.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from stsgas.vending import transaction
from stsgas.vending.errors import NoMasterKey
from stsgas.vending.keys.security import SecurityModule
from stsgas.vending.settings import Settings

_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

#: open a transaction as a reader (kept under this name for the endpoints that use it)
begin_read = transaction.read_only


def get_session(request: Request) -> Iterator[Session]:
    """Yield a session in a transaction: a read ends with a rollback, a write commits
    on success; either rolls back on error."""
    session: Session = request.app.state.sessionmaker()
    reading = request.method in _READ_METHODS
    try:
        if reading:
            begin_read(session)
        yield session
        if reading:
            # nothing to commit; what was read stays loaded (a rollback would expire it)
            session.expunge_all()
            session.rollback()
        else:
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
