"""The transaction boundary of sales: run, commit, and retry the whole unit.

A sale commits here, before its response exists, so no client ever holds a
token whose sale is not durable. PostgreSQL serialization failures (40001),
deadlocks (40P01) and SQLite lock timeouts retry the whole transaction; a
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

from stsgas.vending.db import is_retryable
from stsgas.vending.errors import RequestInProgress, RetryLater

T = TypeVar("T")

ATTEMPTS = 8
LOCK_TIMEOUT = "10s"


def _lock_timed_out(exc: DBAPIError) -> bool:
    return getattr(exc.orig, "sqlstate", None) == "55P03"


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


def run(session: Session, fn: Callable[[], T], *, idempotent: bool = False) -> T:
    """Call ``fn`` in a fresh transaction and commit it, retrying retryable failures."""
    pg = session.get_bind().dialect.name == "postgresql"
    for attempt in range(1, ATTEMPTS + 1):
        try:
            if pg:
                _set_lock_timeout(session)
            result = fn()
            session.commit()
            return result
        except DBAPIError as exc:
            _rollback(session)
            if _lock_timed_out(exc):
                if idempotent:
                    raise RequestInProgress(
                        "a request with this idempotency key is still in progress"
                    ) from None
                raise RetryLater("the meter is busy; retry the request") from None
            retry = is_retryable(exc) or (isinstance(exc, IntegrityError) and attempt <= 2)
            if not retry:
                raise
            if attempt == ATTEMPTS:
                raise RetryLater("the database is busy; retry the request") from None
            time.sleep(random.uniform(0, 0.002 * 2**attempt))
        except BaseException:
            _rollback(session)
            raise
    raise AssertionError("unreachable")  # pragma: no cover
