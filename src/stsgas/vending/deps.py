"""The request-scoped session of the API: where a request's transaction ends.

A read (GET, HEAD, OPTIONS) opens its transaction as a reader
(:func:`stsgas.vending.transaction.read_only`: on SQLite ``BEGIN DEFERRED``,
no write lock) and ends it with a rollback: it has nothing to commit. Every
endpoint that writes (a sale, a cancel, a customer, a tariff, an operator)
commits its unit through :func:`stsgas.vending.transaction.run`, the one
retry policy, before it returns: ``run`` can call the unit again after a
retryable failure, which this dependency could not once the endpoint has
returned. So for any other request the commit here finds nothing left but
the authentication's reads, and a rollback undoes what an endpoint that
raised left. An endpoint that wrote (an ORM flush or ORM ``INSERT``/``UPDATE``/
``DELETE``) and did not commit it through ``run`` is still committed here,
once, with an :class:`UncommittedWrite` warning (an error under the test
suite), so a forgotten ``run`` shows. ``get_session`` runs with
``scope="function"``, so either happens *before* the response is sent.
Services and repositories never commit.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction

from stsgas.vending import transaction
from stsgas.vending.errors import NoMasterKey
from stsgas.vending.keys.security import SecurityModule
from stsgas.vending.settings import Settings

_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

#: open a transaction as a reader (kept under this name for the endpoints that use it)
begin_read = transaction.read_only
#: ``session.info`` key: the open transaction has written
_WROTE = "stsgas_wrote"


class UncommittedWrite(RuntimeWarning):
    """An endpoint wrote without committing through ``transaction.run`` (no retry)."""


def _flushed(session: Session, _context: Any) -> None:
    session.info[_WROTE] = True


def _executed(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[_WROTE] = True


def _ended(session: Session, txn: SessionTransaction) -> None:
    if txn.parent is None:  # committed or rolled back: nothing of it is pending
        session.info.pop(_WROTE, None)


# every session is marked while its transaction holds a write not yet committed (a flag
# in ``session.info``, cleared when the transaction ends); only a write request's session
# is asked. Listening once on the class, not on each request's session: attaching three
# listeners to every new session cost more than the session itself.
event.listen(Session, "after_flush", _flushed)
event.listen(Session, "do_orm_execute", _executed)
event.listen(Session, "after_transaction_end", _ended)


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
            if session.info.get(_WROTE) or session.new or session.dirty or session.deleted:
                warnings.warn(
                    f"{request.method} {request.url.path} wrote outside transaction.run",
                    UncommittedWrite,
                    stacklevel=1,
                )
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
