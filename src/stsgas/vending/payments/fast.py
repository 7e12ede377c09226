"""A mobile-money payment on PostgreSQL, on the event loop: the common case only.

The webhook's hot path, once the provider has answered about the payment:
ONE transaction on the sale pool stores the report (``INSERT … ON CONFLICT
DO NOTHING``: a twin callback waits on the new row and then finds it
applied), finds and locks the meter behind the configured operator (one
statement), runs the sale (:mod:`stsgas.vending.sales.pipeline`, the same
rules every sale runs, key changes and credit policies included), writes it,
puts the change a sale leaves (money beyond the last 0.1 m³) into the
customer's wallet, marks the payment sold and keeps its SMS in the outbox.

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
import uuid
from datetime import UTC, datetime
from typing import Final

import asyncpg
import orjson

from stsgas.vending.errors import VendingError
from stsgas.vending.keys.security import SecurityModule
from stsgas.vending.kit.money import format_money
from stsgas.vending.ledger import service as ledger
from stsgas.vending.models import Channel, PaidFrom, PaymentState
from stsgas.vending.payments import service
from stsgas.vending.payments.provider import Reported, Verified
from stsgas.vending.sales import pipeline
from stsgas.vending.sales.compose import SaleLimits, SaleRequest
from stsgas.vending.sales.fast import SalePool, in_transaction
from stsgas.vending.sales.pipeline import Named
from stsgas.vending.sales.store_async import AsyncPgSaleStore
from stsgas.vending.sms.gateway import OutboundSms
from stsgas.vending.sms.service import Inbound

__all__ = ["DEFER", "SentMarks", "apply"]

DEFER: Final = None

#: the phone of the customer the reference's meter is linked to (where the SMS goes)
_OWNER_PHONE = """
(SELECT c.phone FROM meters m
   JOIN customer_meters cm ON cm.meter_id = m.id AND cm.active = 1
   JOIN customers c ON c.id = cm.customer_id
 WHERE m.pan = {reference})
"""
_RECORD = f"""
INSERT INTO payments (provider, txn_id, amount, reference, phone, state, detail, received_at)
VALUES ($1, $2, $3, $4, $5, 'received', '', $6)
ON CONFLICT (provider, txn_id) DO NOTHING
RETURNING id, {_OWNER_PHONE.format(reference="$4")}
"""
_FIND_LOCKED = f"""
SELECT p.id, p.state, p.sale_id, p.detail, p.verified_at IS NOT NULL, p.amount, p.reference,
       p.phone, {_OWNER_PHONE.format(reference="p.reference")}
FROM payments p WHERE p.provider = $1 AND p.txn_id = $2 FOR UPDATE
"""
#: the payment marked sold and, when it has a phone to go to, its SMS in the outbox
_SOLD = """
WITH p AS (
    UPDATE payments SET state = 'sold', sale_id = $2, customer_id = $3, detail = $5,
                        verified_at = $4
    WHERE id = $1
)
INSERT INTO idempotency_records
    (scope, key, fingerprint, state, response_status, response_body, created_at, updated_at)
SELECT $6::text, $7, $8, 'done', 200, $9::json, $4, $4 WHERE $6::text IS NOT NULL
"""
#: the change a sale leaves, into the customer's wallet: the balance and its journal
#: (as ``wallet.posting.credit_with_journal`` posts it, here on asyncpg); the count says
#: both lines found their account
_CHANGE = """
WITH w AS (
    UPDATE wallets SET balance = balance + $2, updated_at = $3
    WHERE customer_id = $1 RETURNING balance
), e AS (
    INSERT INTO ledger_entries (journal, account_id, sale_id, debit, credit, memo, created_at)
    SELECT $4, a.id, NULL, v.debit, v.credit, $5, $3
    FROM (VALUES ($6::text, $2::bigint, 0::bigint), ($7::text, 0::bigint, $2::bigint))
         AS v (code, debit, credit)
    JOIN accounts a ON a.code = v.code
    WHERE EXISTS (SELECT 1 FROM w)
    RETURNING 1
)
SELECT count(*) FROM e
"""
_MARK_SENT = """
UPDATE idempotency_records r SET response_body = v.body::json, updated_at = $4
FROM unnest($1::text[], $2::text[], $3::text[]) AS v (scope, key, body)
WHERE r.scope = v.scope AND r.key = v.key
"""


class _Defer(Exception):
    """Not the common case: roll back and let :func:`.service.apply` do it."""


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

    async def work(conn: asyncpg.Connection) -> service.Outcome:
        keys = (provider, reported.txn_id)
        new = await conn.fetchrow(
            _RECORD, *keys, reported.amount, reported.reference, reported.phone, now
        )
        if new is not None:  # this transaction holds the new row until it commits
            pid, owner_phone = new
            amount, reference, payer_phone = reported.amount, reported.reference, reported.phone
        else:  # stored before: its twin waited here for the first one's commit
            row = await conn.fetchrow(_FIND_LOCKED, *keys)
            assert row is not None  # it conflicted, and payments are never deleted
            pid, state, sale_id, detail, applied, amount, reference, payer_phone, owner_phone = row
            if state != PaymentState.RECEIVED.value or applied:
                return service.Outcome(
                    payment_id=pid, state=state, sale_id=sale_id, detail=detail, duplicate=True
                )
        if service.mismatch(amount, reference, verified) is not None:
            raise _Defer  # the service stores the rejection and logs it
        phone = service.sms_phone(owner_phone, payer_phone)
        return await _sell(conn, pid, amount, reference, phone, now)

    async def _sell(
        conn: asyncpg.Connection,
        pid: int,
        amount: int,
        reference: str,
        phone: str | None,
        now: datetime,
    ) -> service.Outcome:
        #: the sale's idempotency key and the SMS's outbox key
        ref = service.sms_reference(provider, reported.txn_id)
        req = SaleRequest(
            meter_number=reference,
            paid=amount,
            channel=Channel.API.value,
            idempotency_key=ref,
            paid_from=PaidFrom.MOBILE.value,
        )
        steps = pipeline.sale(req, Named(operator_name), security=security, limits=limits, now=now)
        try:
            sold = await pipeline.arun(steps, AsyncPgSaleStore(conn))
        except VendingError:
            raise _Defer from None  # refused: the service puts the money in the wallet
        if sold.meter is None or sold.priced is None:
            raise _Defer  # a replay: the service finds the payment's sale
        meter = sold.meter
        sale_id, paid = meter.sale_id, sold.priced.paid
        change = amount - paid
        detail = f"sold, change {change}" if change else "sold"
        text = service.sold_text(sold.receipt, paid=paid, pan=meter.pan, decimals=decimals)
        if change > 0 and meter.customer_id is not None:
            memo = f"change of payment {pid} (sale {sale_id})"
            await _change_to_wallet(conn, meter.customer_id, change, memo, now)
            text += f". Change {format_money(change, decimals)} to your wallet"
        scope = None if phone is None else Inbound(phone=phone, text="", message_id=ref).scope
        await conn.execute(
            _SOLD,
            pid,
            sale_id,
            meter.customer_id,
            now,
            detail,
            scope,
            ref,
            hashlib.sha256(text.encode()).hexdigest(),
            orjson.dumps(service.sms_body(text)).decode(),
        )
        sms = None if phone is None else OutboundSms(to=phone, text=text, reference=ref)
        return service.Outcome(
            payment_id=pid, state=PaymentState.SOLD.value, sale_id=sale_id, detail=detail, sms=sms
        )

    try:
        outcome = await in_transaction(pool, work, idempotent=True)
    except _Defer:
        pool.stats["payment:deferred"] += 1
        return DEFER
    pool.stats["payment:duplicate" if outcome.duplicate else "payment:fast"] += 1
    return outcome


async def _change_to_wallet(
    conn: asyncpg.Connection, customer_id: int, change: int, memo: str, now: datetime
) -> None:
    posted = await conn.fetchval(
        _CHANGE,
        customer_id,
        change,
        now,
        str(uuid.uuid4()),
        memo[:200],
        ledger.MOBILE_CLEARING,
        ledger.wallet_account(customer_id),
    )
    if posted != 2:
        raise _Defer  # no wallet, or an account to make first: the service does both


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
        """Write the marks noted so far."""
        batch, self._pending = self._pending, []
        if not batch:
            return
        scopes = [Inbound(phone=m.to, text="", message_id=m.reference).scope for m in batch]
        bodies = [orjson.dumps({**service.sms_body(m.text), "sent": True}).decode() for m in batch]
        async with self.pool.pool.acquire() as conn:
            await conn.execute(
                _MARK_SENT, scopes, [m.reference for m in batch], bodies, datetime.now(UTC)
            )

    async def close(self) -> None:
        """Write what is pending (the server stops)."""
        if self._task is not None:
            self._task.cancel()
            self._task = None
        await self.flush()
