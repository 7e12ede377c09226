"""The transaction boundary of sales: run, commit, and retry the whole unit.

A sale commits here, before its response exists, so no client ever holds a
token whose sale is not durable. PostgreSQL serialization failures (40001),
deadlocks (40P01), SQLite lock timeouts and a connection lost before COMMIT
(a terminated backend, a restarted server) retry the whole transaction; a
unique-key race (two requests with one idempotency key on different meters)
retries once more, after which the winner's row is visible and replayed.
A lock still held after ``LOCK_TIMEOUT`` by a twin request answers 409.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from stsgas.vending.db import is_retryable, sqlite_writer
from stsgas.vending.errors import RequestInProgress, RetryLater

T = TypeVar("T")

ATTEMPTS = 8
LOCK_TIMEOUT = "10s"
#: PostgreSQL: a lock wait ran past ``LOCK_TIMEOUT``
LOCK_NOT_AVAILABLE = "55P03"
#: the answer when the connection died during COMMIT: the sale may or may not be kept
LOST_AT_COMMIT = (
    "the connection was lost while committing: ask GET /sales/outcome "
    "(or resend with the same Idempotency-Key) before selling again"
)


class ReadChanged(Exception):
    """A value read without a lock changed before the write: run the sale again."""


def _lock_timed_out(exc: DBAPIError) -> bool:
    return getattr(exc.orig, "sqlstate", None) == LOCK_NOT_AVAILABLE


def lock_wait_refusal(idempotent: bool) -> RequestInProgress | RetryLater:
    """The answer when the meter stayed locked past ``LOCK_TIMEOUT``: with an
    idempotency key, most likely its twin still holds it."""
    if idempotent:
        return RequestInProgress("a request with this idempotency key is still in progress")
    return RetryLater("the meter is busy; retry the request")


def backoff(attempt: int) -> float:
    """Seconds to wait after failed attempt ``attempt`` (jittered, doubling)."""
    return random.uniform(0, 0.002 * 2**attempt)


def busy() -> RetryLater:
    """The answer when every attempt failed retryably."""
    return RetryLater("the database is busy; retry the request")


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
    """Call ``fn`` in a fresh transaction and commit it, retrying retryable failures.

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
            if writer is None:
                result = fn()
                committing = True
                session.commit()
                return result
            with writer:
                result = fn()
                committing = True
                session.commit()
                return result
        except DBAPIError as exc:
            _rollback(session)
            if _lock_timed_out(exc):
                raise lock_wait_refusal(idempotent) from None
            if exc.connection_invalidated and committing:
                raise RetryLater(LOST_AT_COMMIT) from None
            # a connection lost before COMMIT wrote nothing: run again on a new one
            retry = (
                is_retryable(exc)
                or exc.connection_invalidated
                or (isinstance(exc, IntegrityError) and attempt <= 2)
            )
            if not retry:
                raise
            if attempt == ATTEMPTS:
                raise busy() from None
            time.sleep(backoff(attempt))
        except ReadChanged:
            _rollback(session)
            if attempt == ATTEMPTS:
                raise busy() from None
        except BaseException:
            _rollback(session)
            raise
    raise AssertionError("unreachable")  # pragma: no cover
