"""Sales on PostgreSQL, on the event loop: one transaction, four round trips.

``POST /api/v1/sales`` is the hot path of the whole system. Through FastAPI, a
worker thread, SQLAlchemy and psycopg a sale cost about 1.6 ms of server CPU;
here it is ``BEGIN`` → authenticate + lock + read (one statement) → the
sale's rules → write (one statement) → ``COMMIT``, on an asyncpg pool owned
by the app's lifespan.

The rules are :mod:`.pipeline`'s, the same the route's service runs, driven
on the asyncpg store (:mod:`.store_async`): a replay, an unknown meter, a
pending key change and a customer's credit policy are all handled here, with
a statement or two more. Both paths lock the same meter row, so they
serialise as any two sales do (V2).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

import asyncpg

from stsgas.vending import transaction
from stsgas.vending.errors import DatabaseUnavailable, RetryLater, VendingError
from stsgas.vending.keys.security import SecurityModule
from stsgas.vending.operators.passwords import token_hash
from stsgas.vending.sales import pipeline
from stsgas.vending.sales.pipeline import Bearer, SaleResult
from stsgas.vending.sales.request import SaleRequest
from stsgas.vending.sales.settle import SaleLimits
from stsgas.vending.sales.store_async import AsyncPgSaleStore
from stsgas.vending.transaction import (
    ATTEMPTS,
    LOST_AT_COMMIT,
    Failure,
    ReadChanged,
    backoff,
    classify,
    judge,
)

T = TypeVar("T")
#: seconds to wait for a pooled connection before answering 503
ACQUIRE_TIMEOUT = 10.0
#: what an attempt may fail with and still be judged (``transaction.judge``)
_DATABASE_ERRORS = (ReadChanged, asyncpg.PostgresError, OSError, asyncpg.InterfaceError)


async def _reset(conn: asyncpg.Connection) -> None:
    # every sale ends its transaction; this only guards against a bug leaving one open,
    # and saves the round trip of asyncpg's default reset (RESET ALL, ...) per release
    if conn.is_in_transaction():
        await conn.execute("ROLLBACK")


@dataclass(slots=True)
class SalePool:
    """The app's asyncpg pool for sales, and counts of how requests went."""

    pool: asyncpg.Pool
    #: "fast", "refused:<code>", "retried", "payment:…": read by tests and by an operator's eye
    stats: Counter[str]

    @classmethod
    async def open(cls, dsn: str, *, size: int) -> SalePool:
        """A pool of up to ``size`` connections, opened lazily."""
        pool = await asyncpg.create_pool(
            dsn,
            min_size=0,
            max_size=size,
            reset=_reset,
            server_settings={
                "lock_timeout": transaction.LOCK_TIMEOUT,  # as set when the pool opens
                "application_name": "stsgas-sales",
                # the statements are few and keyed by unique columns: plan each once per
                # connection, not per call (about 7 % less database CPU per sale)
                "plan_cache_mode": "force_generic_plan",
            },
        )
        return cls(pool=pool, stats=Counter())

    async def close(self) -> None:
        """Close every connection (the lifespan's end)."""
        await self.pool.close()


async def sell(
    pool: SalePool,
    req: SaleRequest,
    secret: str,
    *,
    security: SecurityModule,
    limits: SaleLimits,
) -> SaleResult:
    """Sell on the event loop (or replay the sale of the same key), once committed.

    Raises a ``VendingError`` (rolled back, nothing written) like the service,
    :class:`ValueRefused`, or a database error that is nobody's fault (500).
    """
    who = Bearer(token_hash(secret))

    async def work(conn: asyncpg.Connection) -> SaleResult:
        steps = pipeline.sale(req, who, security=security, limits=limits, now=datetime.now(UTC))
        return await pipeline.arun(steps, AsyncPgSaleStore(conn))

    try:
        result = await in_transaction(pool, work, idempotent=req.idempotency_key is not None)
    except VendingError as exc:
        pool.stats[f"refused:{exc.code}"] += 1
        raise
    pool.stats["fast"] += 1
    return result


async def in_transaction(
    pool: SalePool, work: Callable[[asyncpg.Connection], Awaitable[T]], *, idempotent: bool
) -> T:
    """Run ``work`` in one transaction on a pooled connection, retried as the package's
    one retry policy says (:mod:`stsgas.vending.transaction`): a serialisation failure,
    a deadlock or a lost connection before COMMIT runs it again; a loss during COMMIT
    is answered as :data:`~stsgas.vending.transaction.LOST_AT_COMMIT`. Any other
    exception rolls back and propagates."""
    lost = 0
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return await _once(pool, work)
        except _DATABASE_ERRORS as exc:
            lost += classify(exc) is Failure.LOST
            if lost == ATTEMPTS:  # never reached the database: it is down, not busy
                raise DatabaseUnavailable(
                    "the database cannot be reached; retry the request", retry_after=1
                ) from None
            # before COMMIT (``_once`` answers a loss during it): nothing was written
            judge(exc, attempt=attempt, idempotent=idempotent, committing=False)
        pool.stats["retried"] += 1
        await asyncio.sleep(backoff(attempt))
    raise AssertionError("unreachable")  # pragma: no cover


async def _once(pool: SalePool, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    try:
        conn = await pool.pool.acquire(timeout=ACQUIRE_TIMEOUT)
    except TimeoutError:
        raise RetryLater("every database connection is busy; retry the request") from None
    committing = False
    try:
        await conn.execute("BEGIN")
        try:
            result = await work(conn)
            committing = True
            await conn.execute("COMMIT")
            return result
        except BaseException as exc:
            if committing and classify(exc) is Failure.LOST:
                raise RetryLater(LOST_AT_COMMIT) from None
            if not committing:
                with contextlib.suppress(Exception):
                    await conn.execute("ROLLBACK")
            raise
    finally:
        await pool.pool.release(conn)
