"""The SQL of wallets: a guarded draw, a credit, the balance.

The draw is one ``UPDATE … WHERE balance >= amount``: on PostgreSQL a second
purchase waits for the first one's row lock and then re-checks the balance
(READ COMMITTED re-evaluates the ``WHERE`` on the row it waited for), on
SQLite every writer holds the database lock (``BEGIN IMMEDIATE``). Either way
the check and the debit are one step, so a wallet never pays more than it holds.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from stsgas.vending.models import Account, LedgerEntry, Wallet


def balance(session: Session, customer_id: int, *, for_update: bool = False) -> int | None:
    """The wallet's balance in minor units, or None when the customer has none."""
    stmt = select(Wallet.balance).where(Wallet.customer_id == customer_id)
    if for_update:
        stmt = stmt.with_for_update()
    value = session.execute(stmt).scalar_one_or_none()
    return None if value is None else int(value)


def draw(session: Session, customer_id: int, amount: int, now: datetime) -> int | None:
    """Take ``amount`` from the wallet if it holds that much: the balance after, or None
    (nothing taken) when it does not."""
    stmt = (
        update(Wallet)
        .where(Wallet.customer_id == customer_id, Wallet.balance >= amount)
        .values(balance=Wallet.balance - amount, updated_at=now)
        .returning(Wallet.balance)
    )
    value = session.execute(stmt).scalar_one_or_none()
    return None if value is None else int(value)


def credit(session: Session, customer_id: int, amount: int, now: datetime) -> int | None:
    """Add ``amount`` to the wallet: the balance after, or None without a wallet."""
    stmt = (
        update(Wallet)
        .where(Wallet.customer_id == customer_id)
        .values(balance=Wallet.balance + amount, updated_at=now)
        .returning(Wallet.balance)
    )
    value = session.execute(stmt).scalar_one_or_none()
    return None if value is None else int(value)


def off_ledger(session: Session) -> list[int]:
    """Customers whose wallet balance is not their wallet account's credits minus debits
    (should be none: every change of a balance posts its journal in the same transaction)."""
    sums = session.execute(
        select(Account.code, func.coalesce(func.sum(LedgerEntry.credit - LedgerEntry.debit), 0))
        .join(LedgerEntry, LedgerEntry.account_id == Account.id)
        .where(Account.code.like("customer:%:wallet"))
        .group_by(Account.code)
    ).all()
    net = {str(code): int(total) for code, total in sums}
    return [
        int(cid)
        for cid, bal in session.execute(
            select(Wallet.customer_id, Wallet.balance).order_by(Wallet.customer_id)
        ).all()
        if net.get(f"customer:{cid}:wallet", 0) != int(bal)
    ]
