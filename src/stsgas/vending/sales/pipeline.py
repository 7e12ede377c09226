"""A sale, top to bottom, once: the rule order of every sale on every database.

:func:`sale` is written without I/O (as h11 is): it yields what it needs of
the database as a request (:mod:`.ops`: ``Lock``, ``ReadPolicy``, ``Write``…)
and is sent the answer. Two small drivers run it: :func:`run` on a store of a
caller's session (the route on SQLite, deferred and service callers: SMS,
USSD, wallet, payments), :func:`arun` on the event loop's asyncpg store
(:mod:`.fast`, ``payments.fast``). So a sync caller needs no event loop, and
the event-loop path is the same rules, replays, key changes and credit
policies included. The caller owns the transaction; nothing here commits.

The order:

1. lock the meter (and, for a bearer, find its operator: 401/403 first);
2. a customer with a credit policy: lock the customer and read the policy;
3. :func:`.step.decide`: a replay, an unknown meter, or a priced sale (its
   refusals in their one order);
4. a wallet pays: draw it (or refuse);
5. a pending key change: read the target, check the move, move the meter;
6. :func:`.compose.compose` the token, receipt and rows; write them;
7. record the credit policy's part; :func:`.settle.settle` judges the write
   (a guard, the float, a rate limit); note the receipt for its token SMS.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, TypeVar

from stsgas.vending.errors import IdempotencyMismatch, MeterNotFound, SaleCancelled
from stsgas.vending.keys.security import SecurityModule
from stsgas.vending.models import PaidFrom, SaleStatus
from stsgas.vending.operators.auth import ensure
from stsgas.vending.operators.permissions import Permission
from stsgas.vending.operators.service import principal_from_row
from stsgas.vending.policies.rules import PolicyPriced
from stsgas.vending.sales import ops, pricing, step
from stsgas.vending.sales.compose import compose, month_start
from stsgas.vending.sales.issue import group_config, next_tid, plan_move
from stsgas.vending.sales.receipts import Receipt
from stsgas.vending.sales.request import SaleRequest, Seller, fingerprint
from stsgas.vending.sales.rows import LockedMeter
from stsgas.vending.sales.settle import SaleLimits, settle
from stsgas.vending.wallet.errors import InsufficientWallet

__all__ = ["Bearer", "Named", "SaleResult", "Steps", "arun", "run", "sale"]

T = TypeVar("T")
#: a pipeline: yields store requests, is sent their answers, returns its result
Steps = Generator[ops.Op, Any, T]


@dataclass(frozen=True, slots=True)
class Bearer:
    """A seller known by the hash of its API token (checked in the lock's statement)."""

    token_hash: str


@dataclass(frozen=True, slots=True)
class Named:
    """A configured operator, by username (mobile money sells as one)."""

    username: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SaleResult:
    """The receipt, typed for every reader, and whether it answers a replayed
    idempotency key; a new sale also gives the meter as locked and the priced payment."""

    receipt: Receipt
    #: the JSON answer, rendered once: a new sale's as its row keeps it, a replay's the
    #: stored body as it is (so a replay answers the first answer's very bytes, a body
    #: stored before newer receipt fields included)
    body: dict[str, Any]
    replayed: bool
    meter: LockedMeter | None = None
    priced: pricing.Priced | None = None


def sale(
    req: SaleRequest,
    who: Seller | Bearer | Named,
    *,
    security: SecurityModule,
    limits: SaleLimits,
    now: datetime,
) -> Steps[SaleResult]:
    """Sell ``req.paid`` of gas to a meter, or replay the sale of the same key."""
    locked: ops.Locked = yield _lock(req, who, now)
    seller: Seller
    if isinstance(who, Bearer | Named):
        seller = principal_from_row(locked.principal, now=now)  # 401 / 423
        if isinstance(who, Bearer):
            ensure(seller, Permission.SALES_CREATE)
    else:
        seller = who
    meter = locked.meter
    fp = fingerprint(req, seller)
    if meter is not None and meter.replay_id is None and meter.credit_policy:
        # read with the customer locked; the lock says whether there is a policy, so a
        # customer without one costs nothing more
        assert meter.customer_id is not None
        meter = replace(
            meter, policy=(yield ops.ReadPolicy(customer_id=meter.customer_id, now=now))
        )
    decision = step.decide(meter, req, seller, now)
    if isinstance(decision, step.Replay):
        return replay((yield ops.ReadSale(sale_id=decision.sale_id)), fp)
    if isinstance(decision, step.NoMeter):
        # no such meter, but a committed sale under this key still answers a replay
        if req.idempotency_key is not None:
            done = yield ops.FindKeyed(
                operator_id=seller.id, channel=req.channel, key=req.idempotency_key
            )
            if done is not None:
                return replay(done, fp)
        raise MeterNotFound(f"no meter {req.meter_number} is registered", pan=req.meter_number)
    meter, priced = decision.meter, decision.priced
    if req.paid_from == PaidFrom.WALLET.value:
        assert meter.customer_id is not None  # step: a wallet pays for its customer's meter
        drawn: ops.WalletDrawn = yield ops.DrawWallet(
            customer_id=meter.customer_id, amount=priced.paid, now=now
        )
        if not drawn.ok:
            raise InsufficientWallet(
                f"the wallet holds {drawn.had} (minor units), less than the {priced.paid} "
                "this sale costs"
            )
    kcts = []
    if decision.key_change:
        pending: ops.Pending = yield ops.ReadPending(meter_id=meter.id)
        plan = plan_move(
            meter,
            meter.group,
            pending.group,
            security,
            now,
            new_ken=pending.ken,
            ti=pending.ti,
            base_date=pending.base_date,
        )
        kcts = plan.tokens()
        yield ops.MoveKeys(
            meter_id=meter.id,
            group_id=plan.group_id,
            ti=plan.ti,
            base_date=plan.base_date,
            ken=plan.ken,
        )
        config = plan.new
        # the TID counts under the new base date; RO=1 clears the meter's TID memory
        tid = next_tid(
            replace(meter, base_date=plan.base_date, last_tid=plan.last_tid(meter.last_tid)),
            now,
        )
    else:
        config = group_config(meter, security, now)
        tid = next_tid(meter, now)
    composed = compose(
        meter,
        decision.version,
        priced,
        req,
        operator=seller,
        fp=fp,
        config=config,
        kcts=kcts,
        tid=tid,
        now=now,
    )
    written = yield ops.Write(write=composed.write, receipt=composed.receipt)
    if isinstance(priced, PolicyPriced):
        yield ops.RecordPolicy(priced=priced, sale_id=meter.sale_id, now=now)
    settle(
        written,
        customer_id=meter.customer_id,
        vendor_id=composed.write.vendor_id,
        limits=limits,
        now=now,
    )
    yield ops.AfterSale(receipt=composed.receipt)
    return SaleResult(
        receipt=composed.receipt,
        body=composed.body,
        replayed=False,
        meter=meter,
        priced=priced,
    )


def _lock(req: SaleRequest, seller: Seller | Bearer | Named, now: datetime) -> ops.Lock:
    who: dict[str, Any]
    if isinstance(seller, Bearer):
        who = {"token_hash": seller.token_hash}
    elif isinstance(seller, Named):
        who = {"username": seller.username}
    else:
        who = {"operator_id": seller.id}
    return ops.Lock(
        number=req.meter_number,
        channel=req.channel,
        key=req.idempotency_key,
        now=now,
        month_start=month_start(now),
        **who,
    )


def replay(sale: ops.StoredSale, fp: str) -> SaleResult:
    """The stored receipt again (read back typed; answered as stored); a cancelled sale
    answers that it is cancelled (409), never its token."""
    if sale.fingerprint != fp or sale.response is None:
        raise IdempotencyMismatch("this idempotency key was used for a different request")
    if sale.status == SaleStatus.CANCELLED.value:
        when = sale.cancelled_at.isoformat(timespec="seconds") if sale.cancelled_at else None
        raise SaleCancelled(
            f"sale {sale.id} made under this idempotency key was cancelled; its token is void",
            sale_id=sale.id,
            cancelled_at=when,
        )
    body = sale.response
    return SaleResult(receipt=Receipt.from_json(body), body=body, replayed=True)


def run(steps: Steps[T], store: ops.SaleStore) -> T:
    """Run a pipeline on a store of a caller's session."""
    try:
        op = next(steps)
        while True:
            op = steps.send(store.do(op))
    except StopIteration as done:
        return done.value


async def arun(steps: Steps[T], store: ops.AsyncSaleStore) -> T:
    """Run a pipeline on an event-loop store."""
    try:
        op = next(steps)
        while True:
            op = steps.send(await store.do(op))
    except StopIteration as done:
        return done.value
