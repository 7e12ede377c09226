"""The vending package's one retry policy and one transaction boundary.

Every unit of work that writes (a sale, a reprint, a cancel, a management
request, a customer, a tariff, an operator, a readout, loading demo data)
commits through :func:`run`: the unit runs in a fresh transaction and
commits there, before its response exists, so no client ever holds an
answer whose rows are not durable. The event-loop sale path (:mod:`stsgas.vending.sales.fast`,
asyncpg; ``payments.fast`` uses it too) keeps its own loop, but judges every
failure with the same :func:`judge`, so both retry the same errors the same
number of times and refuse the rest alike:

* a PostgreSQL serialization failure (40001) or deadlock (40P01), a SQLite
  lock timeout, a connection lost before COMMIT (a terminated backend, a
  restarted server), and :class:`ReadChanged` run the whole unit again,
  up to :data:`ATTEMPTS` times, then answer 503 ``retry_later``;
* a unique-key race (two requests with one idempotency key) runs it again
  once more, after which the winner's row is visible and replayed;
* a lock still held after :data:`LOCK_TIMEOUT` answers 409 (most likely
  the twin of an idempotent request) or 503;
* a connection lost *during* COMMIT answers 503 with a way to learn the
  outcome: the unit may or may not be kept.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Callable
from enum import StrEnum
from typing import TypeVar

import asyncpg
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from stsgas.vending.db import sqlite_writer
from stsgas.vending.errors import RequestInProgress, RetryLater

T = TypeVar("T")

ATTEMPTS = 8
LOCK_TIMEOUT = "10s"
#: PostgreSQL: a lock wait ran past ``LOCK_TIMEOUT``
LOCK_NOT_AVAILABLE = "55P03"
#: PostgreSQL: serialization failure and deadlock
RETRY_SQLSTATES = frozenset({"40001", "40P01"})
_UNIQUE_VIOLATION = "23505"
#: the server ended the session (admin or crash shutdown, a terminated backend)
_SHUTDOWN = "57P"
#: a connection that went away under asyncpg
_ASYNC_LOST = (OSError, asyncpg.ConnectionDoesNotExistError, asyncpg.PostgresConnectionError)
#: the answer when the connection died during COMMIT: the unit may or may not be kept
LOST_AT_COMMIT = (
    "the connection was lost while committing: ask GET /sales/outcome "
    "(or resend with the same Idempotency-Key) before selling again"
)


class ReadChanged(Exception):
    """A value read without a lock changed before the write: run the unit again."""


class ValueRefused(Exception):
    """The database refused a value of the request (SQLSTATE class 22): 422."""


class Failure(StrEnum):
    """What a failed attempt was, whichever driver raised it."""

    RETRY = "retry"
    DUPLICATE = "duplicate"
    LOST = "lost"
    LOCK_TIMEOUT = "lock_timeout"
    VALUE = "value"
    OTHER = "other"


def classify(exc: BaseException) -> Failure:
    """The one classifier of database errors (SQLAlchemy on psycopg or sqlite3, asyncpg)."""
    if isinstance(exc, ReadChanged):
        return Failure.RETRY
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return Failure.LOST
        state = getattr(exc.orig, "sqlstate", None) or ""
        if isinstance(exc, OperationalError) and "database is locked" in str(exc.orig):
            return Failure.RETRY
        if isinstance(exc, IntegrityError) and state in ("", _UNIQUE_VIOLATION):
            return Failure.DUPLICATE  # SQLite names no SQLSTATE
    elif isinstance(exc, _ASYNC_LOST):
        return Failure.LOST
    elif isinstance(exc, asyncpg.PostgresError):
        state = getattr(exc, "sqlstate", None) or ""
        if state.startswith(_SHUTDOWN):
            return Failure.LOST
        if state == _UNIQUE_VIOLATION:
            return Failure.DUPLICATE
    else:
        return Failure.OTHER
    if state in RETRY_SQLSTATES:
        return Failure.RETRY
    if state == LOCK_NOT_AVAILABLE:
        return Failure.LOCK_TIMEOUT
    if state.startswith("22"):
        return Failure.VALUE
    return Failure.OTHER


def is_retryable(exc: BaseException) -> bool:
    """True for what :func:`run` runs again whatever the attempt (not a duplicate key)."""
    return classify(exc) in (Failure.RETRY, Failure.LOST)


def lock_wait_refusal(idempotent: bool) -> RequestInProgress | RetryLater:
    """The answer when a row stayed locked past ``LOCK_TIMEOUT``: with an
    idempotency key, most likely its twin still holds it."""
    if idempotent:
        return RequestInProgress("a request with this idempotency key is still in progress")
    return RetryLater("the meter is busy; retry the request")


def busy() -> RetryLater:
    """The answer when every attempt failed retryably."""
    return RetryLater("the database is busy; retry the request")


def backoff(attempt: int) -> float:
    """Seconds to wait after failed attempt ``attempt`` (jittered, doubling)."""
    return random.uniform(0, 0.002 * 2**attempt)


def judge(exc: BaseException, *, attempt: int, idempotent: bool, committing: bool) -> Failure:
    """Return the failure when the unit should run again; raise what it answers otherwise.

    ``committing``: COMMIT had been sent when ``exc`` came.
    """
    failure = classify(exc)
    if failure is Failure.LOST and committing:
        raise RetryLater(LOST_AT_COMMIT) from None
    if failure is Failure.LOCK_TIMEOUT:
        raise lock_wait_refusal(idempotent) from None
    if failure is Failure.VALUE and not isinstance(exc, DBAPIError):
        raise ValueRefused(str(exc)) from None  # a DataError keeps its own 422 handler
    retry = failure in (Failure.RETRY, Failure.LOST) or (
        failure is Failure.DUPLICATE and attempt <= 2
    )
    if not retry:
        raise exc
    if attempt >= ATTEMPTS:
        raise busy() from None
    return failure


def _set_lock_timeout(session: Session) -> None:
    """Once per pooled connection: lock waits give up after ``LOCK_TIMEOUT``."""
    conn = session.connection()
    if conn.info.get("stsgas_lock_timeout") != LOCK_TIMEOUT:
        conn.exec_driver_sql(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
        conn.info["stsgas_lock_timeout"] = LOCK_TIMEOUT


def _rollback(session: Session) -> None:
    """Roll back; a ``SET`` made in the rolled-back transaction is undone, so forget it."""
    with contextlib.suppress(Exception):  # a dead connection has nothing to forget
        session.connection().info.pop("stsgas_lock_timeout", None)
    session.rollback()


def read_only(session: Session) -> None:
    """Start the session's transaction as a reader (SQLite: ``BEGIN DEFERRED``, so
    reading the caller's credentials does not take the database's write lock)."""
    if session.get_bind().dialect.name == "sqlite":
        session.connection(execution_options={"sqlite_begin": "DEFERRED"})


def run(session: Session, fn: Callable[[], T], *, idempotent: bool = False) -> T:
    """Call ``fn`` in a fresh transaction and commit it, running it again as
    :func:`judge` says.

    On SQLite the reads before it are committed and the transaction runs under
    this process's writer lock (:func:`stsgas.vending.db.sqlite_writer`), so
    writers queue in order instead of sleeping in SQLite's busy handler.
    """
    engine = session.get_bind()
    pg = engine.dialect.name == "postgresql"
    writer = sqlite_writer(engine) if engine.dialect.name == "sqlite" else None
    if writer is not None:
        session.commit()  # end the read transaction (auth); nothing written yet
    for attempt in range(1, ATTEMPTS + 1):
        committing = False
        try:
            if pg:
                _set_lock_timeout(session)
            with writer if writer is not None else contextlib.nullcontext():
                result = fn()
                committing = True
                session.commit()
                return result
        except (DBAPIError, ReadChanged) as exc:
            _rollback(session)
            judge(exc, attempt=attempt, idempotent=idempotent, committing=committing)
            if not isinstance(exc, ReadChanged):
                time.sleep(backoff(attempt))
        except BaseException:
            _rollback(session)
            raise
    raise AssertionError("unreachable")  # pragma: no cover


def run_in(sm: sessionmaker[Session], fn: Callable[[Session], T], *, idempotent: bool = False) -> T:
    """:func:`run` in a session of its own, for work outside a request (an SMS step,
    installing, demo data, a key ceremony): ``fn`` gets the session."""
    with sm() as session:
        return run(session, lambda: fn(session), idempotent=idempotent)


def once(sm: sessionmaker[Session], fn: Callable[[Session], T]) -> T:
    """One transaction in a session of its own, never run again: for a unit with an
    effect outside the database that a retry would repeat (a key object written into
    an HSM). A failure is raised as it is; the caller undoes its outside effect."""
    with sm() as session:
        engine = session.get_bind()
        writer = sqlite_writer(engine) if engine.dialect.name == "sqlite" else None
        with writer if writer is not None else contextlib.nullcontext():
            try:
                result = fn(session)
                session.commit()
            except BaseException:
                session.rollback()
                raise
        return result
