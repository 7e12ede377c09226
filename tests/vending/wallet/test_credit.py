"""Money into a wallet with its journal (``ops.CreditWallet``) on both databases.

Each engine answers the request in one place (SQLite: the wallet's SQL and
``ledger.post``; PostgreSQL: ``sales.pg.CREDIT_WALLET``, which the event-loop
payment folds into its write), so these tests assert one documented answer
and run on both: were the two to drift apart, one run would fail.
"""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, delete, select, text
from sqlalchemy.orm import Session

from stsgas.vending import transaction
from stsgas.vending.db import make_sessionmaker
from stsgas.vending.ledger import service as ledger
from stsgas.vending.models import Account, LedgerEntry, Wallet
from stsgas.vending.sales.ops import CreditWallet
from stsgas.vending.wallet import service as wallet
from stsgas.vending.wallet.errors import WalletNotFound
from stsgas.vending.wallet.posting import credit_with_journal
from tests.vending.locks import lock_waiters
from tests.vending.wallet.conftest import NOW, WalletShop, ledger_balanced

SOURCE = "clearing:agent"  # an account no fixture makes: the credit makes it
MEMO = "cash paid in at the agent"


def _credit(engine: Engine, customer_id: int, amount: int) -> int | None:
    with make_sessionmaker(engine).begin() as s:
        op = CreditWallet(customer_id=customer_id, amount=amount, source=SOURCE, memo=MEMO, now=NOW)
        return credit_with_journal(s, op)


def _lines(engine: Engine) -> list[tuple[object, ...]]:
    """(journal, account, kind, debit, credit, sale, memo) of every posted line."""
    with make_sessionmaker(engine)() as s:
        rows = s.execute(
            select(
                LedgerEntry.journal,
                Account.code,
                Account.kind,
                LedgerEntry.debit,
                LedgerEntry.credit,
                LedgerEntry.sale_id,
                LedgerEntry.memo,
            )
            .join(Account, Account.id == LedgerEntry.account_id)
            .order_by(LedgerEntry.id)
        ).all()
        return [tuple(r) for r in rows]


def _wallet(engine: Engine, customer_id: int) -> tuple[int, datetime] | None:
    """The wallet's balance and when it last moved (as UTC), or None."""
    with make_sessionmaker(engine)() as s:
        row = s.execute(
            select(Wallet.balance, Wallet.updated_at).where(Wallet.customer_id == customer_id)
        ).one_or_none()
        if row is None:
            return None
        at = row[1] if row[1].tzinfo is not None else row[1].replace(tzinfo=UTC)
        return int(row[0]), at.astimezone(UTC)


def test_a_credit_moves_the_balance_and_posts_one_balanced_journal(
    engine: Engine, wallet_shop: WalletShop
) -> None:
    """Debit the source, credit ``customer:<id>:wallet``, one journal (a UUID), no sale,
    the memo as given; the source account made on first use; the balance after."""
    cid = wallet_shop.customer_id
    assert _credit(engine, cid, 250) == 250
    assert _credit(engine, cid, 40) == 290
    lines = _lines(engine)
    wallet_code = ledger.wallet_account(cid)
    assert [ln[1:] for ln in lines] == [
        (SOURCE, "asset", 250, 0, None, MEMO),
        (wallet_code, "liability", 0, 250, None, MEMO),
        (SOURCE, "asset", 40, 0, None, MEMO),
        (wallet_code, "liability", 0, 40, None, MEMO),
    ]
    journals = [ln[0] for ln in lines]
    assert journals[0] == journals[1] != journals[2] == journals[3]
    assert all(str(uuid.UUID(str(j))) == j for j in journals)
    assert _wallet(engine, cid) == (290, NOW)
    with make_sessionmaker(engine)() as s:
        assert wallet.balance_of(s, cid) == 290
        made = s.execute(select(Account.name, Account.vendor_id).where(Account.code == SOURCE))
        assert made.one() == ("Clearing", None)
    assert ledger_balanced(engine)


@pytest.mark.parametrize("amount", [0, -5])
def test_a_credit_of_nothing_moves_nothing(
    engine: Engine, wallet_shop: WalletShop, amount: int
) -> None:
    """Not positive: no balance change (not even its time), no line, no account made."""
    cid = wallet_shop.customer_id
    before = _wallet(engine, cid)
    assert _credit(engine, cid, amount) is None
    assert _wallet(engine, cid) == before
    assert _lines(engine) == []
    with make_sessionmaker(engine)() as s:
        assert s.execute(select(Account.id).where(Account.code == SOURCE)).first() is None


def test_a_customer_without_a_wallet_is_credited_nothing(
    engine: Engine, wallet_shop: WalletShop
) -> None:
    """No wallet row: nothing credited, nothing posted, no account made; a top-up (which
    must credit) says the wallet is not found."""
    cid = wallet_shop.other_customer_id
    with make_sessionmaker(engine).begin() as s:
        s.execute(delete(Wallet).where(Wallet.customer_id == cid))
    assert _credit(engine, cid, 100) is None
    assert _lines(engine) == []
    with make_sessionmaker(engine)() as s:
        assert s.execute(select(Account.id).where(Account.code == SOURCE)).first() is None
        with pytest.raises(WalletNotFound):
            wallet.top_up(s, cid, 100, source=SOURCE, memo=MEMO, now=NOW)
        s.rollback()


def test_credits_at_once_that_each_make_the_source_account_all_post(
    engine: Engine, wallet_shop: WalletShop
) -> None:
    """Four credits from an account none has made yet, at once (on PostgreSQL each reads
    the accounts before the first commits, as the wallet row is held until all wait):
    the account is made once, a credit that found it made meanwhile runs again, and all
    four are credited and posted."""
    cid, credits = wallet_shop.customer_id, 4
    sm = make_sessionmaker(engine)
    barrier = threading.Barrier(credits)

    def credit(s: Session) -> int:
        op = CreditWallet(customer_id=cid, amount=100, source=SOURCE, memo=MEMO, now=NOW)
        return wallet.credit(s, op)

    def run() -> int:
        barrier.wait(timeout=30)
        return transaction.run_in(sm, credit)

    with ExitStack() as stack:
        holder = None
        if engine.dialect.name == "postgresql":
            holder = stack.enter_context(engine.connect())
            holder.execute(
                text("SELECT 1 FROM wallets WHERE customer_id = :c FOR UPDATE"), {"c": cid}
            )
        pool = stack.enter_context(ThreadPoolExecutor(credits))
        futures = [pool.submit(run) for _ in range(credits)]
        if holder is not None:
            _waiting(engine, credits)
            holder.rollback()
        after = sorted(f.result() for f in futures)
    assert after == [100, 200, 300, 400]
    lines = _lines(engine)
    assert len(lines) == 2 * credits
    assert len({ln[0] for ln in lines}) == credits
    with sm() as s:
        made = s.execute(select(Account.id).where(Account.code == SOURCE)).scalars().all()
        assert len(made) == 1
    assert ledger_balanced(engine)


def _waiting(engine: Engine, sessions: int) -> None:
    """Until ``sessions`` backends wait on a lock (polled, at most a minute)."""
    for _ in range(6_000):
        if len(lock_waiters(engine)) >= sessions:
            return
        time.sleep(0.01)
    raise AssertionError(f"fewer than {sessions} sessions ever waited on a lock")
