"""Mobile money under real concurrent HTTP requests on a live server (both databases;
on PostgreSQL the row locks and unique keys decide, on SQLite the writer lock)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select

from stsgas.paysim.ledger import Txn
from stsgas.vending.db import make_sessionmaker
from stsgas.vending.ledger import service as ledger
from stsgas.vending.models import Account, LedgerEntry, PaidFrom, Payment, Sale
from stsgas.vending.wallet import service as wallet
from tests.vending.conftest import auth
from tests.vending.payments.conftest import CONFIRM, Paying
from tests.vending.sales.live import serve
from tests.vending.wallet.conftest import WalletShop, fund, ledger_balanced

PRICE = 1_500  # 15.00: exactly 10 m³ at the first step


@pytest.fixture
def live(paying: Paying) -> Iterator[str]:
    """The app with mobile money on a real uvicorn server."""
    with serve(paying.app) as base_url:
        yield base_url


def _at_once(base_url: str, calls: list[Callable[[httpx.Client], httpx.Response]]) -> list[Any]:
    """Run every call from its own thread and client, released together by a barrier."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[httpx.Client], httpx.Response]) -> httpx.Response:
        with httpx.Client(base_url=base_url, timeout=60) as c:
            barrier.wait(timeout=30)
            return call(c)

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def _wallet_matches_its_account(engine: Engine, customer_id: int) -> bool:
    """The wallet row's balance is the wallet account's credits minus debits."""
    with make_sessionmaker(engine)() as s:
        net = s.execute(
            select(func.coalesce(func.sum(LedgerEntry.credit - LedgerEntry.debit), 0))
            .join(Account, Account.id == LedgerEntry.account_id)
            .where(Account.code == ledger.wallet_account(customer_id))
        ).scalar_one()
        return int(net) == wallet.balance_of(s, customer_id)


def test_one_payment_called_back_many_times_at_once_sells_once(
    live: str, paying: Paying, engine: Engine
) -> None:
    txn = paying.pay(paying.shop.pans[0], "30.00")
    body = txn.callback_body("600000")
    answers = _at_once(live, [lambda c: c.post(CONFIRM, json=body)] * 6)
    assert [a.status_code for a in answers] == [200] * 6
    assert {a.json()["ResultCode"] for a in answers} == {0}
    with make_sessionmaker(engine)() as s:
        assert s.execute(select(func.count()).select_from(Payment)).scalar_one() == 1
        sales = s.execute(select(Sale)).scalars().all()
    assert [(x.paid_from, x.amount_paid) for x in sales] == [(PaidFrom.MOBILE.value, 3_000)]
    assert len(paying.sent_sms()) == 1
    assert ledger_balanced(engine)


def _purchases_and_callbacks(
    shop: WalletShop, purchases: int, paid: list[Txn]
) -> list[Callable[[httpx.Client], httpx.Response]]:
    """``purchases`` wallet purchases of 15.00 (the customer's meters in turn), then the
    confirmation callback of each payment in ``paid``: the calls to run at once."""
    url = f"/api/v1/customers/{shop.customer_id}/wallet/purchases"
    seller = auth(shop.seller_token)

    def buy(pan: str) -> Callable[[httpx.Client], httpx.Response]:
        return lambda c: c.post(url, json={"meter_number": pan, "amount": "15.00"}, headers=seller)

    def confirm(body: dict[str, Any]) -> Callable[[httpx.Client], httpx.Response]:
        return lambda c: c.post(CONFIRM, json=body)

    calls = [buy(shop.pans[i % len(shop.pans)]) for i in range(purchases)]
    return calls + [confirm(t.callback_body("600000")) for t in paid]


def test_top_ups_during_wallet_purchases_all_apply_and_the_ledger_balances(
    live: str, paying: Paying, engine: Engine
) -> None:
    """Purchases from the wallet on several meters while mobile-money top-ups land: every
    top-up is credited, no purchase overdraws, the wallet row equals its ledger account."""
    shop = paying.shop
    fund(engine, shop.customer_id, 2 * PRICE)
    topups = [paying.pay(f"C{shop.customer_id}", "15.00") for _ in range(3)]
    answers = _at_once(live, _purchases_and_callbacks(shop, 8, topups))
    bought = [a.status_code for a in answers[:8]]
    assert set(bought) <= {201, 409}
    assert all(
        a.json()["code"] == "insufficient_wallet" for a in answers[:8] if a.status_code == 409
    )
    assert [a.json()["ResultCode"] for a in answers[8:]] == [0, 0, 0]
    sold = bought.count(201)
    assert 2 <= sold <= 5  # the 2 funded, plus any the top-ups paid for in time
    with make_sessionmaker(engine)() as s:
        balance = wallet.balance_of(s, shop.customer_id)
        assert s.execute(select(func.count()).select_from(Sale)).scalar_one() == sold
    assert balance == 2 * PRICE + 3 * PRICE - sold * PRICE
    assert balance >= 0
    assert _wallet_matches_its_account(engine, shop.customer_id)
    assert ledger_balanced(engine)


def test_concurrent_http_purchases_sell_exactly_what_the_wallet_pays_for(
    live: str, paying: Paying, engine: Engine
) -> None:
    """Ten purchases at once over HTTP, on four meters, against a wallet that pays for
    three: exactly three sales, seven 409 insufficient_wallet, the wallet at zero."""
    shop = paying.shop
    fund(engine, shop.customer_id, 3 * PRICE)
    url = f"/api/v1/customers/{shop.customer_id}/wallet/purchases"
    seller = auth(shop.seller_token)

    def buy(pan: str) -> Callable[[httpx.Client], httpx.Response]:
        return lambda c: c.post(url, json={"meter_number": pan, "amount": "15.00"}, headers=seller)

    answers = _at_once(live, [buy(shop.pans[i % len(shop.pans)]) for i in range(10)])
    assert sorted(a.status_code for a in answers) == [201] * 3 + [409] * 7
    with make_sessionmaker(engine)() as s:
        assert wallet.balance_of(s, shop.customer_id) == 0
        assert s.execute(select(func.count()).select_from(Sale)).scalar_one() == 3
    assert _wallet_matches_its_account(engine, shop.customer_id)
    assert ledger_balanced(engine)


def test_change_of_meter_payments_during_wallet_purchases_balances(
    live: str, paying: Paying, engine: Engine
) -> None:
    """Mobile-money payments for the customer's meters that leave change (15.07 buys
    10 m³ for 15.00; 0.07 goes to the wallet, in the sale's own transaction) land while
    wallet purchases draw on the same wallet: every payment sells once, no purchase
    overdraws, the wallet row equals its ledger account and the ledger balances."""
    shop = paying.shop
    fund(engine, shop.customer_id, 2 * PRICE)
    paid = [paying.pay(shop.pans[i % len(shop.pans)], "15.07") for i in range(4)]
    answers = _at_once(live, _purchases_and_callbacks(shop, 4, paid))
    bought = [a.status_code for a in answers[:4]]
    assert bought.count(201) == 2  # the wallet held two purchases; the change buys none
    assert all(
        a.json()["code"] == "insufficient_wallet" for a in answers[:4] if a.status_code == 409
    )
    assert [a.json()["ResultCode"] for a in answers[4:]] == [0] * 4
    with make_sessionmaker(engine)() as s:
        by_mobile = s.execute(
            select(func.count()).select_from(Sale).where(Sale.paid_from == PaidFrom.MOBILE.value)
        ).scalar_one()
        balance = wallet.balance_of(s, shop.customer_id)
    assert by_mobile == 4
    assert balance == 4 * 7  # two funded purchases spent; four changes of 0.07 kept
    assert _wallet_matches_its_account(engine, shop.customer_id)
    assert ledger_balanced(engine)
    if engine.dialect.name == "postgresql":  # the change went in on the event-loop path
        assert paying.app.state.sale_pool.stats["payment:fast"] == 4
