"""The common sale on PostgreSQL, on the event loop: one transaction, four round trips.

``POST /api/v1/sales`` is the hot path of the whole system. Through FastAPI, a
worker thread, SQLAlchemy and psycopg a sale cost about 1.6 ms of server CPU;
here it is ``BEGIN`` → authenticate + lock + read (one statement) → the
sale's rules (:mod:`.compose`, the same code the service runs) → write (one
statement) → ``COMMIT``, on an asyncpg pool owned by the app's lifespan.

Only the plain case runs here. Whatever needs more (an idempotent replay, a
pending key change, an unknown meter) rolls back and answers :data:`DEFER`:
the caller hands the
request to the full route (:mod:`.endpoints` → :mod:`.service`), which
handles every case on any database. Both paths lock the same meter row, so
they serialise as any two sales do (V2).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, TypeVar

import asyncpg

from stsgas.vending import transaction
from stsgas.vending.errors import (
    DatabaseUnavailable,
    NotAuthenticated,
    RetryLater,
    VendingError,
)
from stsgas.vending.keys.security import SecurityModule
from stsgas.vending.operators.auth import ensure
from stsgas.vending.operators.passwords import token_hash
from stsgas.vending.operators.permissions import Permission
from stsgas.vending.operators.service import Principal, principal_from_row
from stsgas.vending.sales import step
from stsgas.vending.sales.compose import (
    Composed,
    SaleLimits,
    SaleRequest,
    compose,
    fingerprint,
    month_start,
    settle,
)
from stsgas.vending.sales.issue import group_config, next_tid
from stsgas.vending.sales.store_async import AsyncPgSaleStore, Seller
from stsgas.vending.transaction import (
    ATTEMPTS,
    LOST_AT_COMMIT,
    Failure,
    ReadChanged,
    backoff,
    classify,
    judge,
)

DEFER: Final = None
T = TypeVar("T")
#: seconds to wait for a pooled connection before answering 503
ACQUIRE_TIMEOUT = 10.0
#: what an attempt may fail with and still be judged (``transaction.judge``)
_DATABASE_ERRORS = (ReadChanged, asyncpg.PostgresError, OSError, asyncpg.InterfaceError)


class _Defer(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


async def _reset(conn: asyncpg.Connection) -> None:
    # every sale ends its transaction; this only guards against a bug leaving one open,
    # and saves the round trip of asyncpg's default reset (RESET ALL, ...) per release
    if conn.is_in_transaction():
        await conn.execute("ROLLBACK")


@dataclass(slots=True)
class SalePool:
    """The app's asyncpg pool for sales, and counts of how requests went."""

    pool: asyncpg.Pool
    #: "fast", "deferred:<reason>", "retried": read by tests and by an operator's eye
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
) -> dict[str, Any] | None:
    """Sell on the event loop: the receipt once committed, or :data:`DEFER`.

    Raises a ``VendingError`` (rolled back, nothing written) like the service,
    :class:`ValueRefused`, or a database error that is nobody's fault (500).
    """
    hashed = token_hash(secret)

    async def work(conn: asyncpg.Connection) -> dict[str, Any]:
        store = AsyncPgSaleStore(conn)
        return await _sale(store, req, hashed, security, limits, datetime.now(UTC))

    try:
        receipt = await in_transaction(pool, work, idempotent=req.idempotency_key is not None)
    except _Defer as d:
        pool.stats[f"deferred:{d.reason}"] += 1
        return DEFER
    except VendingError as exc:
        pool.stats[f"refused:{exc.code}"] += 1
        raise
    pool.stats["fast"] += 1
    return receipt


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


async def _sale(
    store: AsyncPgSaleStore,
    req: SaleRequest,
    hashed: str,
    security: SecurityModule,
    limits: SaleLimits,
    now: datetime,
) -> dict[str, Any]:
    found = await store.lock(
        Seller(token_hash=hashed),
        req.meter_number,
        channel=req.channel,
        key=req.idempotency_key,
        now=now,
        month_start=month_start(now),
    )
    if found.principal is None:
        raise NotAuthenticated("unknown or revoked token")
    seller = principal_from_row(found.principal, now=now)
    ensure(seller, Permission.SALES_CREATE)
    decision = step.decide(found.meter, req, seller, now)
    if isinstance(decision, step.NoMeter):
        raise _Defer("meter")  # unknown: the service says so, or replays a committed key
    if isinstance(decision, step.Replay):
        raise _Defer("replay")
    if decision.key_change:
        raise _Defer("key_change")  # the ORM moves the meter's key data
    if decision.meter.credit_policy:
        raise _Defer("policy")  # the customer's credit policy is read and written there
    meter = decision.meter
    composed = compose_plain(decision, req, seller, security, now)
    written = await store.write_sale(composed.write)
    settle(
        written, customer_id=meter.customer_id, vendor_id=seller.vendor_id, limits=limits, now=now
    )
    return composed.receipt


def compose_plain(
    decision: step.Go, req: SaleRequest, seller: Principal, security: SecurityModule, now: datetime
) -> Composed:
    """The rows and receipt of a sale without a key change (the event-loop paths')."""
    meter = decision.meter
    return compose(
        meter,
        decision.version,
        decision.priced,
        req,
        operator=seller,
        fp=fingerprint(req, seller),
        config=group_config(meter, security, now),
        kcts=[],
        tid=next_tid(meter, now),
        now=now,
    )
