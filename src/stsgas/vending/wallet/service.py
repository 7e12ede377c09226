"""Wallet rules: top up from a payment, spend on gas through the one sale pipeline.

A wallet is a liability account (``customer:<id>:wallet``) with its balance
kept on the ``wallets`` row. A top-up credits both in one transaction; a
purchase is an ordinary sale whose payer is the wallet
(:mod:`stsgas.vending.sales.payer`), so the wallet is drawn, under a guarded
update, in the sale's own transaction: refused, nothing is sold; sold, the
wallet paid exactly once (a replayed Idempotency-Key answers the stored sale).
The caller owns the transaction (``stsgas.vending.transaction``); nothing here
commits.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from stsgas.vending.errors import BadAmount, IdempotencyMismatch
from stsgas.vending.keys.security import SecurityModule
from stsgas.vending.ledger import service as ledger
from stsgas.vending.models import PaidFrom, Payment, PaymentState
from stsgas.vending.sales import ops
from stsgas.vending.sales import service as sales
from stsgas.vending.wallet import repository as wallets
from stsgas.vending.wallet.errors import WalletNotFound
from stsgas.vending.wallet.posting import credit_with_journal

__all__ = ["TopUp", "WalletView", "counter_top_up", "credit", "purchase", "top_up", "view"]

#: the provider name of money paid in at the utility's own counter
COUNTER = "counter"
#: the clearing account of cash taken at the counter for wallets
COUNTER_CLEARING = ledger.clearing_account("counter")


@dataclass(frozen=True, slots=True, kw_only=True)
class WalletView:
    """A wallet as it stands and its latest movements (newest first)."""

    customer_id: int
    balance: int
    moves: list[ledger.FloatMove]


@dataclass(frozen=True, slots=True, kw_only=True)
class TopUp:
    """A top-up's outcome: the payment it came from and the balance after it."""

    payment_id: int
    amount: int
    balance: int
    replayed: bool


def balance_of(session: Session, customer_id: int) -> int:
    """The wallet's balance (minor units); :class:`WalletNotFound` without a customer."""
    value = wallets.balance(session, customer_id)
    if value is None:
        raise WalletNotFound(f"customer {customer_id} has no wallet")
    return value


def view(
    session: Session, customer_id: int, *, limit: int = 50, before_id: int | None = None
) -> WalletView:
    """The wallet and its movements with the balance after each."""
    now_balance = balance_of(session, customer_id)
    moves = ledger.liability_history(
        session,
        ledger.wallet_account(customer_id),
        now_balance=now_balance,
        limit=limit,
        before_id=before_id,
    )
    return WalletView(customer_id=customer_id, balance=now_balance, moves=moves)


def top_up(
    session: Session,
    customer_id: int,
    amount: int,
    *,
    source: str,
    memo: str,
    now: datetime,
) -> int:
    """Credit ``amount`` to the wallet, paid from ledger account ``source`` (an asset:
    the money received); the balance after it."""
    return credit(
        session,
        ops.CreditWallet(customer_id=customer_id, amount=amount, source=source, memo=memo, now=now),
    )


def credit(session: Session, op: ops.CreditWallet) -> int:
    """Money into the wallet with its journal (``wallet.posting``): the balance after;
    :class:`BadAmount` unless positive, :class:`WalletNotFound` without a wallet."""
    if op.amount <= 0:
        raise BadAmount("a wallet top-up must be positive")
    after = credit_with_journal(session, op)
    if after is None:
        raise WalletNotFound(f"customer {op.customer_id} has no wallet")
    return after


def counter_top_up(
    session: Session, customer_id: int, amount: int, *, key: str, now: datetime
) -> TopUp:
    """Money paid in at the counter, once per ``key`` (the request's Idempotency-Key,
    kept as the payment's transaction id: a second request with it answers the first)."""
    done = session.execute(
        select(Payment).where(Payment.provider == COUNTER, Payment.txn_id == key)
    ).scalar_one_or_none()
    if done is not None:
        if done.customer_id != customer_id or done.amount != amount:
            raise IdempotencyMismatch("this idempotency key was used for a different top-up")
        return TopUp(
            payment_id=done.id,
            amount=amount,
            balance=balance_of(session, customer_id),
            replayed=True,
        )
    payment = Payment(
        provider=COUNTER,
        txn_id=key,
        amount=amount,
        reference=f"customer:{customer_id}",
        state=PaymentState.TOPPED_UP.value,
        customer_id=customer_id,
        detail="paid in at the counter",
        received_at=now,
        verified_at=now,
    )
    balance_of(session, customer_id)  # 404 before anything is written
    session.add(payment)
    session.flush()  # a concurrent twin fails here (unique key) and is replayed
    after = top_up(
        session,
        customer_id,
        amount,
        source=COUNTER_CLEARING,
        memo=f"wallet top-up customer {customer_id} payment {payment.id}",
        now=now,
    )
    return TopUp(payment_id=payment.id, amount=amount, balance=after, replayed=False)


def purchase(
    session: Session,
    customer_id: int,
    req: sales.SaleRequest,
    *,
    operator: sales.Seller,
    security: SecurityModule,
    now: datetime,
    limits: sales.SaleLimits | None = None,
) -> sales.SaleResult:
    """Sell gas to one of the customer's meters, paid from the customer's wallet."""
    balance_of(session, customer_id)
    wallet_req = replace(req, paid_from=PaidFrom.WALLET.value, payer_customer_id=customer_id)
    return sales.sell(
        session, wallet_req, operator=operator, security=security, now=now, limits=limits
    )
