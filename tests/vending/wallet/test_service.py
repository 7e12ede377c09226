"""The wallet core on both databases: made with the customer, topped up once per key,
spent on gas through the sale pipeline, never below zero, refunded on cancel."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, update

from stsgas.vending import transaction
from stsgas.vending.db import make_sessionmaker
from stsgas.vending.errors import IdempotencyMismatch
from stsgas.vending.keys.security import SoftwareSecurityModule
from stsgas.vending.ledger import service as ledger
from stsgas.vending.models import (
    Account,
    Customer,
    LedgerEntry,
    Operator,
    PaidFrom,
    Sale,
    Wallet,
)
from stsgas.vending.reports.service import reconciliation
from stsgas.vending.sales import cancel
from stsgas.vending.sales import service as sales
from stsgas.vending.wallet import service as wallet
from stsgas.vending.wallet.errors import InsufficientWallet, NotCustomersMeter
from tests.vending.wallet.conftest import NOW, WalletShop, fund, ledger_balanced

#: 15.00 buys exactly 10 m³ at the first step (1.50 per m³, 0.15 per 0.1 m³ unit)
PRICE = 1_500


def _buy(
    engine: Engine,
    shop: WalletShop,
    security: SoftwareSecurityModule,
    pan: str,
    *,
    key: str | None = None,
    paid: int = PRICE,
    customer_id: int | None = None,
) -> sales.SaleResult:
    with make_sessionmaker(engine)() as s:
        op = s.get(Operator, shop.seller_id)
        assert op is not None
        req = sales.SaleRequest(meter_number=pan, paid=paid, channel="web", idempotency_key=key)
        cid = shop.customer_id if customer_id is None else customer_id
        return transaction.run(
            s,
            lambda: wallet.purchase(s, cid, req, operator=op, security=security, now=NOW),
            idempotent=key is not None,
        )


def _balance(engine: Engine, customer_id: int) -> int:
    with make_sessionmaker(engine)() as s:
        return wallet.balance_of(s, customer_id)


def test_a_new_customer_has_an_empty_wallet_and_its_account(
    engine: Engine, wallet_shop: WalletShop
) -> None:
    with make_sessionmaker(engine).begin() as s:
        plain = Customer(name="New", phone="+255700000099", debt_balance=0)
        s.add(plain)
        s.flush()
        new_id = plain.id
    with make_sessionmaker(engine)() as s:
        for cid in (wallet_shop.customer_id, new_id):
            assert wallet.balance_of(s, cid) == 0
            acc = s.execute(
                select(Account).where(Account.code == ledger.wallet_account(cid))
            ).scalar_one()
            assert acc.kind == "liability"


def test_a_wallet_purchase_draws_the_wallet_and_posts_a_balanced_sale(
    engine: Engine, wallet_shop: WalletShop, security_module: SoftwareSecurityModule
) -> None:
    assert fund(engine, wallet_shop.customer_id, 2_500) == 2_500
    result = _buy(engine, wallet_shop, security_module, wallet_shop.pans[0])
    assert result.receipt.amount_paid == Decimal("15.00")
    assert result.body["amount_paid"] == "15.00"
    assert _balance(engine, wallet_shop.customer_id) == 1_000
    with make_sessionmaker(engine)() as s:
        sale = s.execute(select(Sale)).scalar_one()
        assert (sale.paid_from, sale.vendor_id) == (PaidFrom.WALLET.value, None)
        lines = s.execute(
            select(Account.code, LedgerEntry.debit)
            .join(Account, Account.id == LedgerEntry.account_id)
            .where(LedgerEntry.sale_id == sale.id, LedgerEntry.debit > 0)
        ).all()
        assert lines == [(ledger.wallet_account(wallet_shop.customer_id), PRICE)]
        view = wallet.view(s, wallet_shop.customer_id)
    assert [(m.amount, m.balance, m.sale_id) for m in view.moves] == [
        (-PRICE, 1_000, sale.id),
        (2_500, 2_500, None),
    ]
    assert ledger_balanced(engine)


def test_a_wallet_that_cannot_pay_sells_nothing(
    engine: Engine, wallet_shop: WalletShop, security_module: SoftwareSecurityModule
) -> None:
    fund(engine, wallet_shop.customer_id, PRICE - 1)
    with pytest.raises(InsufficientWallet):
        _buy(engine, wallet_shop, security_module, wallet_shop.pans[0])
    with make_sessionmaker(engine)() as s:
        assert s.execute(select(func.count()).select_from(Sale)).scalar_one() == 0
    assert _balance(engine, wallet_shop.customer_id) == PRICE - 1
    assert ledger_balanced(engine)


def test_a_wallet_pays_only_for_its_customers_meters(
    engine: Engine, wallet_shop: WalletShop, security_module: SoftwareSecurityModule
) -> None:
    fund(engine, wallet_shop.customer_id, 5_000)
    with pytest.raises(NotCustomersMeter):
        _buy(engine, wallet_shop, security_module, wallet_shop.other_pan)
    assert _balance(engine, wallet_shop.customer_id) == 5_000


def test_a_replayed_purchase_draws_the_wallet_once(
    engine: Engine, wallet_shop: WalletShop, security_module: SoftwareSecurityModule
) -> None:
    fund(engine, wallet_shop.customer_id, 5_000)
    first = _buy(engine, wallet_shop, security_module, wallet_shop.pans[0], key="web-1")
    again = _buy(engine, wallet_shop, security_module, wallet_shop.pans[0], key="web-1")
    assert (first.replayed, again.replayed) == (False, True)
    assert again.receipt == first.receipt
    assert again.body == first.body
    assert _balance(engine, wallet_shop.customer_id) == 5_000 - PRICE


def test_a_counter_top_up_is_credited_once_per_key(engine: Engine, wallet_shop: WalletShop) -> None:
    assert fund(engine, wallet_shop.customer_id, 700, key="k1") == 700
    assert fund(engine, wallet_shop.customer_id, 700, key="k1") == 700
    with pytest.raises(IdempotencyMismatch):
        fund(engine, wallet_shop.customer_id, 800, key="k1")
    assert fund(engine, wallet_shop.customer_id, 300, key="k2") == 1_000
    assert ledger_balanced(engine)


def test_cancelling_a_wallet_sale_gives_the_money_back_to_the_wallet(
    engine: Engine, wallet_shop: WalletShop, security_module: SoftwareSecurityModule
) -> None:
    fund(engine, wallet_shop.customer_id, 3_000)
    sale_id = _buy(engine, wallet_shop, security_module, wallet_shop.pans[0]).receipt.sale_id
    with make_sessionmaker(engine)() as s:
        op = s.get(Operator, wallet_shop.admin_id)
        assert op is not None
        transaction.run(s, lambda: cancel.void(s, sale_id, op, reason="typo"))
    assert _balance(engine, wallet_shop.customer_id) == 3_000
    with make_sessionmaker(engine)() as s:
        history = wallet.view(s, wallet_shop.customer_id).moves
    assert [m.balance for m in history] == [3_000, 3_000 - PRICE, 3_000]
    assert ledger_balanced(engine)


@pytest.mark.parametrize("paying", [3])
def test_concurrent_purchases_sell_exactly_what_the_wallet_pays_for(
    engine: Engine,
    wallet_shop: WalletShop,
    security_module: SoftwareSecurityModule,
    paying: int,
) -> None:
    """N purchases at once on the customer's meters against a wallet that pays for K:
    exactly K sales, the wallet at zero, the ledger balanced (on SQLite the writer lock
    serialises; on PostgreSQL the guarded update does)."""
    fund(engine, wallet_shop.customer_id, PRICE * paying)
    tries = 12
    pans = [wallet_shop.pans[i % len(wallet_shop.pans)] for i in range(tries)]

    def attempt(pan: str) -> str:
        try:
            _buy(engine, wallet_shop, security_module, pan)
        except InsufficientWallet:
            return "refused"
        return "sold"

    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes: list[Any] = list(pool.map(attempt, pans))
    assert outcomes.count("sold") == paying
    assert outcomes.count("refused") == tries - paying
    assert _balance(engine, wallet_shop.customer_id) == 0
    with make_sessionmaker(engine)() as s:
        assert s.execute(select(func.count()).select_from(Sale)).scalar_one() == paying
    assert ledger_balanced(engine)


def test_the_integrity_check_finds_a_wallet_changed_off_the_ledger(
    engine: Engine, wallet_shop: WalletShop
) -> None:
    """A balance edited by hand (no journal) breaks the reconciliation the daily check runs."""
    fund(engine, wallet_shop.customer_id, 1_000)
    with make_sessionmaker(engine)() as s:
        assert reconciliation(s)["wallets_off_ledger"] == []
        assert reconciliation(s)["ok"]
    with make_sessionmaker(engine).begin() as s:
        s.execute(update(Wallet).values(balance=Wallet.balance + 1))
    with make_sessionmaker(engine)() as s:
        report = reconciliation(s)
    assert report["wallets_off_ledger"] == [wallet_shop.customer_id, wallet_shop.other_customer_id]
    assert not report["ok"]
