"""A mobile-money payment on PostgreSQL, on the event loop: the common case only.

The webhook's hot path, once the provider has answered about the payment:
ONE transaction on the sale pool, four round trips (:mod:`.fast_sql`):
``BEGIN``; store the report (``INSERT … ON CONFLICT DO NOTHING``: a twin
callback waits on the new row and then finds it applied) and, in the same
statement, find and lock the meter behind the configured operator; run the
sale (:mod:`stsgas.vending.sales.pipeline`, the same rules every sale runs,
key changes and credit policies included); write it and, in the same
statement, put the change a sale leaves (money beyond the last 0.1 m³) into
the customer's wallet, mark the payment sold and keep its SMS in the outbox;
``COMMIT``. :class:`PaymentStore` is the sale's own store with those two
statements in place of the sale's lock and write.

Whatever is not that common case — a reference that names a customer account
or no meter, a sale the rules refuse (the money then goes to the wallet), a
report the provider does not confirm — rolls
back and answers :data:`DEFER`; the caller stores the report and runs
:func:`.service.apply`, which handles every case on any database. Both hold
the payment row while they apply it, so a payment is applied once whichever
path takes it.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Final

import asyncpg
import orjson

from stsgas.vending.errors import VendingError
from stsgas.vending.keys.security import SecurityModule
from stsgas.vending.models import Channel, PaidFrom, PaymentState
from stsgas.vending.payments import fast_sql, service
from stsgas.vending.payments.provider import Reported, Verified
from stsgas.vending.sales import ops, pg, pipeline, store_pg
from stsgas.vending.sales.fast import SalePool, in_transaction
from stsgas.vending.sales.pg import Rows
from stsgas.vending.sales.pipeline import Named
from stsgas.vending.sales.receipts import Receipt
from stsgas.vending.sales.request import SaleRequest
from stsgas.vending.sales.rows import SaleWrite
from stsgas.vending.sales.settle import SaleLimits
from stsgas.vending.sales.store_async import AsyncPgSaleStore
from stsgas.vending.sms.gateway import OutboundSms
from stsgas.vending.sms.service import Inbound

__all__ = ["DEFER", "SentMarks", "apply"]

DEFER: Final = None
#: where the operator's id is among the sale lock's columns (the seller's row first)
_SELLER_ID: Final = 2


class _Defer(Exception):
    """Not the common case: roll back and let :func:`.service.apply` do it."""


class _Twin(Exception):
    """The report was stored before: this callback is its twin (or the provider's retry)."""


@dataclass(slots=True)
class _Said:
    """What the payment's part of the write said (None until the write was composed)."""

    sold: service.Sold | None = None


class PaymentStore(AsyncPgSaleStore):
    """The sale's store, with the payment folded into its two statements.

    The sale's lock (behind the configured operator) is answered by
    :data:`.fast_sql.RECORD_LOCK`, which stores the report first (``record``: its
    parameters; None when the payment is stored already), and the sale's write by
    :data:`.fast_sql.WRITE_SOLD`, which also marks the payment sold, keeps its SMS and
    puts the change into the wallet (``sold``: those parameters from the sale's rows
    and its typed receipt).
    """

    def __init__(
        self,
        conn: asyncpg.Connection,
        *,
        record: dict[str, Any] | None,
        sold: Callable[[SaleWrite, Receipt], dict[str, Any]],
    ) -> None:
        super().__init__(conn)
        self.record = record
        self.sold = sold
        #: the new payment's id and owner's phone (RECORD_LOCK's first columns)
        self.payment: tuple[int, str | None] | None = None
        self.posted = 0
        self._write: ops.Write | None = None

    async def do(self, op: ops.Op) -> Any:
        if isinstance(op, ops.Write):
            self._write = op
        return await super().do(op)

    async def _fetch(self, sql: str, params: dict[str, Any]) -> Rows:
        if sql is pg.SELLER_LOCK and self.record is not None:
            rows = await super()._fetch(fast_sql.RECORD_LOCK, {**params, **self.record})
            self.record = None
            if not rows:
                raise _Twin
            self.payment = (rows[0][0], rows[0][1])
            found = [r[fast_sql.PAY_COLUMNS :] for r in rows]
            # no such operator: as the sale's lock answers it, no row at all
            return [] if found[0][_SELLER_ID] is None else found
        if sql is store_pg.WRITE and self._write is not None:
            paying = self.sold(self._write.write, self._write.receipt)
            rows = await super()._fetch(fast_sql.WRITE_SOLD, {**params, **paying})
            self.posted = int(rows[0][-1])
            return [r[:-1] for r in rows]
        return await super()._fetch(sql, params)


async def apply(
    pool: SalePool,
    reported: Reported,
    verified: Verified | None,
    *,
    provider: str,
    operator_name: str,
    security: SecurityModule,
    limits: SaleLimits,
    now: datetime,
    decimals: int,
) -> service.Outcome | None:
    """Store and apply a payment the provider has answered about, in one transaction:
    the outcome (a duplicate's too), or :data:`DEFER`."""
    #: the sale's idempotency key and the SMS's outbox key
    ref = service.sms_reference(provider, reported.txn_id)
    req = SaleRequest(
        meter_number=reported.reference,
        paid=reported.amount,
        channel=Channel.API.value,
        idempotency_key=ref,
        paid_from=PaidFrom.MOBILE.value,
    )
    record = {
        "pay_provider": provider,
        "pay_txn_id": reported.txn_id,
        "pay_amount": reported.amount,
        "pay_phone": reported.phone,
    }

    async def work(conn: asyncpg.Connection) -> service.Outcome:
        if service.mismatch(reported.amount, reported.reference, verified) is not None:
            # not confirmed as reported: the service stores the rejection and logs it
            raise _Defer
        try:
            return await _sell(conn, record, reported.amount, req, None, reported.phone)
        except _Twin:  # stored before: its twin waited on the insert for the first's commit
            pass
        row = await conn.fetchrow(fast_sql.FIND_LOCKED, provider, reported.txn_id)
        assert row is not None  # it conflicted, and payments are never deleted
        pid, state, sale_id, detail, applied, amount, reference, payer_phone, owner_phone = row
        if state != PaymentState.RECEIVED.value or applied:
            return service.Outcome(
                payment_id=pid, state=state, sale_id=sale_id, detail=detail, duplicate=True
            )
        if service.mismatch(amount, reference, verified) is not None:
            raise _Defer
        again = replace(req, meter_number=reference, paid=amount)
        return await _sell(conn, None, amount, again, (pid, owner_phone), payer_phone)

    async def _sell(
        conn: asyncpg.Connection,
        record: dict[str, Any] | None,
        amount: int,
        req: SaleRequest,
        stored: tuple[int, str | None] | None,
        payer_phone: str,
    ) -> service.Outcome:
        said = _Said()

        def sold_params(w: SaleWrite, receipt: Receipt) -> dict[str, Any]:
            payment = stored or store.payment
            assert payment is not None  # the lock stored it, or it was stored before
            pid, owner_phone = payment
            phone = service.sms_phone(owner_phone, payer_phone)
            sale_id, customer = w.sale["id"], w.customer_id
            sold = said.sold = service.sold(
                receipt,
                amount=amount,
                paid=w.sale["amount_paid"],
                pan=req.meter_number,
                customer_id=customer,
                decimals=decimals,
            )
            scope = None if phone is None else Inbound(phone=phone, text="", message_id=ref).scope
            # no change to put in a wallet: a credit of nothing, which moves nothing
            change_for = 0 if customer is None else customer
            credit = service.change_credit(pid, sale_id, change_for, sold.to_wallet, now)
            return {
                **pg.credit_params(credit),
                "pay_id": pid,
                "pay_customer": customer,
                "pay_now": now,
                "pay_detail": sold.detail,
                "pay_scope": scope,
                "pay_ref": ref,
                "pay_fingerprint": hashlib.sha256(sold.text.encode()).hexdigest(),
                "pay_sms": orjson.dumps(service.sms_body(sold.text)).decode(),
            }

        store = PaymentStore(conn, record=record, sold=sold_params)
        steps = pipeline.sale(req, Named(operator_name), security=security, limits=limits, now=now)
        try:
            done = await pipeline.arun(steps, store)
        except VendingError:
            raise _Defer from None  # refused: the service puts the money in the wallet
        sold = said.sold
        if done.meter is None or done.priced is None or sold is None:
            raise _Defer  # a replay: the service finds the payment's sale
        if sold.to_wallet and store.posted != pg.CREDIT_LINES:
            raise _Defer  # no wallet, or an account to make first: the service does both
        payment = stored or store.payment
        assert payment is not None
        phone = service.sms_phone(payment[1], payer_phone)
        sms = None if phone is None else OutboundSms(to=phone, text=sold.text, reference=ref)
        return service.Outcome(
            payment_id=payment[0],
            state=PaymentState.SOLD.value,
            sale_id=done.meter.sale_id,
            detail=sold.detail,
            sms=sms,
        )

    try:
        outcome = await in_transaction(pool, work, idempotent=True)
    except _Defer:
        pool.stats["payment:deferred"] += 1
        return DEFER
    pool.stats["payment:duplicate" if outcome.duplicate else "payment:fast"] += 1
    return outcome


class SentMarks:
    """Marks SMS the gateway took as sent, many in one statement.

    A mark only keeps the resend job and the SMS log from thinking an SMS is still
    to send, so marks made within ``delay`` seconds are written together: one
    statement and one commit for a burst of callbacks instead of one each. A
    server stopped before its marks are written (:meth:`close` writes them on a
    clean stop) leaves those SMS looking unsent, at worst sent again once.
    """

    def __init__(self, pool: SalePool, *, delay: float = 0.05) -> None:
        self.pool = pool
        self.delay = delay
        self._pending: list[OutboundSms] = []
        self._task: asyncio.Task[None] | None = None
        #: one batch written at a time, so :meth:`close` waits for the one in flight
        self._writing = asyncio.Lock()

    def add(self, sms: OutboundSms) -> None:
        """Mark ``sms`` sent soon (on the running event loop)."""
        self._pending.append(sms)
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._later())

    async def _later(self) -> None:
        await asyncio.sleep(self.delay)
        self._task = None
        await self.flush()

    async def flush(self) -> None:
        """Write the marks noted so far (after any batch already being written)."""
        async with self._writing:
            batch, self._pending = self._pending, []
            if not batch:
                return
            scopes = [Inbound(phone=m.to, text="", message_id=m.reference).scope for m in batch]
            bodies = [
                orjson.dumps({**service.sms_body(m.text), "sent": True}).decode() for m in batch
            ]
            async with self.pool.pool.acquire() as conn:
                await conn.execute(
                    fast_sql.MARK_SENT,
                    scopes,
                    [m.reference for m in batch],
                    bodies,
                    datetime.now(UTC),
                )

    async def close(self) -> None:
        """Write what is pending (the server stops)."""
        if self._task is not None:
            self._task.cancel()
            self._task = None
        await self.flush()
