"""A mobile-money payment for a meter with a pending key change, or for a customer
with credit policies, on every path (issue 14).

Since the sale became one pipeline these two cases are applied on the event loop
(PostgreSQL, ``payments.fast``) instead of being deferred to the service in a
thread. Each test runs on three paths and asserts the same documented answer on
each, so the event loop gives what the thread gives:

* ``loop``: PostgreSQL with the fast path on; the pool's stats must show the
  payment applied there (``payment:fast``), never deferred;
* ``thread``: PostgreSQL with the fast path off (the service in a thread);
* ``sqlite``: the service in a thread on SQLite.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select, text

from stsgas.sts import CreditToken, decode
from stsgas.vending.db import make_sessionmaker
from stsgas.vending.keys.security import SoftwareSecurityModule
from stsgas.vending.models import (
    Account,
    Customer,
    CustomerPolicy,
    FreeGasGrant,
    LedgerEntry,
    Meter,
    Payment,
    PaymentState,
    Sale,
)
from stsgas.vending.settings import Settings
from stsgas.vending.wallet import service as wallet
from tests.vending import factories
from tests.vending.conftest import app_with, integrity
from tests.vending.locks import lock_waiters
from tests.vending.payments.conftest import CONFIRM, Paying, callback, counts
from tests.vending.policies.conftest import policies_written
from tests.vending.sales.conftest import meter_config
from tests.vending.sales.live import serve
from tests.vending.wallet.conftest import ledger_balanced

DEBT = 5_000  # the customer's debt before the payment, minor units
ASKED = 200  # the emergency credit the customer asked for
INSTALMENT = 300  # the fixed debt instalment a sale recovers


@dataclass(frozen=True, slots=True)
class Path:
    """How a test's callbacks are applied."""

    name: str
    backend: str
    fast: bool


PATHS = [
    pytest.param(Path("loop", "postgresql", True), id="loop", marks=pytest.mark.postgres),
    pytest.param(Path("thread", "postgresql", False), id="thread", marks=pytest.mark.postgres),
    pytest.param(Path("sqlite", "sqlite", False), id="sqlite"),
]


@pytest.fixture(params=PATHS)
def path(request: pytest.FixtureRequest) -> Path:
    """The path this run applies callbacks on."""
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def backend(path: Path) -> str:
    """The database the path runs on."""
    return path.backend


@pytest.fixture
def app(
    path: Path, settings: Settings, engine: Engine, security_module: SoftwareSecurityModule
) -> Any:
    """The vending app with the event-loop sale path on or off."""
    return app_with(settings, engine, security_module, fast_sales=path.fast)


def _stats(paying: Paying) -> Counter[str]:
    pool = paying.app.state.sale_pool
    return Counter() if pool is None else Counter(pool.stats)


def _sale_of(engine: Engine, txn_id: str) -> tuple[Payment, Sale]:
    with make_sessionmaker(engine)() as s:
        pay = s.execute(select(Payment).where(Payment.txn_id == txn_id)).scalar_one()
        sale = s.get(Sale, pay.sale_id)
        assert sale is not None
        s.expunge_all()
        return pay, sale


def _pays_once(client: Any, paying: Paying, engine: Engine, path: Path, txn: Any) -> None:
    """The callback and the provider's retry of it: one sale, one SMS; on the loop
    path both were answered there (the sale and then the duplicate)."""
    assert callback(client, txn).json()["ResultCode"] == 0
    assert callback(client, txn).json()["ResultCode"] == 0
    assert counts(engine) == {"sales": 1, "payments": 1}
    assert len(paying.sent_sms()) == 1
    stats = _stats(paying)
    if path.fast:
        assert stats["payment:fast"] == 1, stats
        assert stats["payment:duplicate"] == 1, stats
        assert stats["payment:deferred"] == 0, stats
    else:
        assert paying.app.state.sale_pool is None


def test_a_payment_for_a_meter_with_a_pending_key_change_sends_the_key_change_first(
    client: Any,
    paying: Paying,
    engine: Engine,
    path: Path,
    security_module: SoftwareSecurityModule,
    db_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """As at the counter: the SMS carries the two key change tokens, then the credit
    token made under the new key, and the meter now holds the new key data."""
    pan = paying.shop.pans[0]
    with make_sessionmaker(engine).begin() as s:
        new_sg = factories.supply_group(s, security_module, krn=2)
        meter = s.execute(select(Meter).where(Meter.pan == pan)).scalar_one()
        old_sg, new_sg_id = meter.supply_group_id, new_sg.id
        meter.pending_supply_group_id = new_sg_id
    txn = paying.pay(pan, "15.00")
    _pays_once(client, paying, engine, path, txn)
    pay, sale = _sale_of(engine, txn.trans_id)
    assert (pay.state, pay.detail) == (PaymentState.SOLD.value, "sold")
    receipt = sale.response or {}
    assert [t["kind"] for t in receipt["tokens"]] == ["kct", "kct", "credit"]
    (sms,) = paying.sent_sms()
    digits = " ".join(t["digits"] for t in receipt["tokens"])
    assert f"Token {digits}." in sms.text  # key change tokens first, in order
    with make_sessionmaker(engine)() as s:
        m = s.execute(select(Meter).where(Meter.pan == pan)).scalar_one()
        assert (m.supply_group_id, m.pending_supply_group_id) == (new_sg_id, None)
        assert new_sg_id != old_sg
        assert m.last_tid == receipt["tid"]
        key = meter_config(s, security_module, pan).key()  # the new key
        credit = decode(receipt["tokens"][-1]["digits"], key)
        assert isinstance(credit, CreditToken)
        assert credit.units == sale.credit_units
    assert ledger_balanced(engine)
    integrity(db_url, capsys)


def test_a_payment_s_change_posts_the_same_journal_on_every_path(
    client: Any, paying: Paying, engine: Engine, path: Path
) -> None:
    """30.07 buys 20 m³ for 30.00; the 0.07 left goes into the wallet with one journal of
    its own: debit ``clearing:mobile``, credit the customer's wallet, no sale named, the
    memo naming payment and sale. The event loop folds the wallet credit into its write,
    the threads ask their engine's store for it: the same lines on every path."""
    customer_id = paying.shop.customer_id
    txn = paying.pay(paying.shop.pans[0], "30.07")
    _pays_once(client, paying, engine, path, txn)
    pay, sale = _sale_of(engine, txn.trans_id)
    assert (pay.detail, sale.amount_paid) == ("sold, change 7", 3_000)
    with make_sessionmaker(engine)() as s:
        rows = s.execute(
            select(
                LedgerEntry.journal,
                Account.code,
                LedgerEntry.debit,
                LedgerEntry.credit,
                LedgerEntry.sale_id,
            )
            .join(Account, Account.id == LedgerEntry.account_id)
            .where(LedgerEntry.memo == f"change of payment {pay.id} (sale {sale.id})")
            .order_by(LedgerEntry.id)
        ).all()
        assert wallet.balance_of(s, customer_id) == 7
    assert [tuple(r[1:]) for r in rows] == [
        ("clearing:mobile", 7, 0, None),
        (f"customer:{customer_id}:wallet", 0, 7, None),
    ]
    (journal,) = {r[0] for r in rows}
    assert str(uuid.UUID(journal)) == journal
    assert ledger_balanced(engine)


def _give_policy(engine: Engine, customer_id: int) -> None:
    """1 m³ of free gas a month, a 3.00 instalment per sale, 2.00 of emergency credit
    asked, and a debt of 50.00 to recover."""
    with make_sessionmaker(engine).begin() as s:
        factories.lifeline_policy(s, customer_id, instalment=INSTALMENT, emergency_asked=ASKED)
        customer = s.get(Customer, customer_id)
        assert customer is not None
        customer.debt_balance = DEBT


#: the receipt's policy lines of a 30.07 payment (1.50 per m³ to 9 m³, then 2.00)
POLICY_LINES = [
    {"kind": "free_gas", "label": "Free basic gas", "amount": "1.50", "units": "1.0"},
    {"kind": "debt_instalment", "label": "Debt instalment", "amount": "3.00", "units": None},
    {
        "kind": "emergency_credit",
        "label": "Emergency credit given",
        "amount": "2.00",
        "units": "1.0",
    },
]


def test_a_payment_of_a_customer_with_credit_policies_applies_them(
    client: Any,
    paying: Paying,
    engine: Engine,
    path: Path,
    db_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The receipt carries free gas granted, the instalment recovered and the emergency
    credit given; the grant, the policy and the debt are written; the money beyond
    the last 0.1 m³ goes to the wallet; the ledger balances. The same on every path."""
    customer_id = paying.shop.customer_id
    _give_policy(engine, customer_id)
    txn = paying.pay(paying.shop.pans[0], "30.07")
    _pays_once(client, paying, engine, path, txn)
    pay, sale = _sale_of(engine, txn.trans_id)
    assert (pay.state, pay.customer_id) == (PaymentState.SOLD.value, customer_id)
    receipt = sale.response or {}
    # the same lines whichever path applied it (as the counter's pipeline test finds)
    assert receipt["policy_lines"] == POLICY_LINES
    assert (receipt["amount_paid"], receipt["change"]) == ("29.90", "0.17")
    given, change = ASKED, 17
    assert (sale.amount_paid, pay.detail) == (2_990, "sold, change 17")
    # the journal: two lines each, the free gas and the emergency credit advanced
    policies_written(
        engine, sale, customer_id, debt_before=DEBT, instalment=INSTALMENT, given=given, journal=4
    )
    with make_sessionmaker(engine)() as s:
        assert wallet.balance_of(s, customer_id) == change
    (sms,) = paying.sent_sms()
    assert f"Token {receipt['tokens'][-1]['digits']}." in sms.text
    assert sms.text.endswith("Change 0.17 to your wallet")
    assert ledger_balanced(engine)
    integrity(db_url, capsys)


def _at_once(
    paying: Paying, path: Path, bodies: list[dict[str, Any]], *, hold: str | None = None
) -> None:
    """POST every callback body from its own thread and client on a live server,
    released together by a barrier; each is accepted. On the loop path, each
    payment was applied there once and every other callback was its duplicate.

    ``hold``: a meter whose row another transaction holds (PostgreSQL) until every
    callback waits on it, so they take the meter one after the other, each having
    read it before the one ahead of it committed."""
    barrier = threading.Barrier(len(bodies))
    engine: Engine = paying.app.state.engine

    def run(base_url: str, body: dict[str, Any]) -> httpx.Response:
        with httpx.Client(base_url=base_url, timeout=60) as c:
            barrier.wait(timeout=30)
            return c.post(CONFIRM, json=body)

    with ExitStack() as stack:
        holder = None
        if hold is not None:
            holder = stack.enter_context(engine.connect())
            holder.execute(text("SELECT id FROM meters WHERE pan = :pan FOR UPDATE"), {"pan": hold})
        base_url = stack.enter_context(serve(paying.app))
        pool = stack.enter_context(ThreadPoolExecutor(len(bodies)))
        futures = [pool.submit(run, base_url, b) for b in bodies]
        if holder is not None:
            _waiting(engine, len(bodies))
            holder.rollback()
        answers = [f.result() for f in futures]
        stats = _stats(paying)  # before the server stops and closes its pool
    assert {(a.status_code, a.json()["ResultCode"]) for a in answers} == {(200, 0)}
    payments = len({b["TransID"] for b in bodies})
    if path.fast:
        assert (stats["payment:fast"], stats["payment:deferred"]) == (payments, 0), stats
        assert stats["payment:duplicate"] == len(bodies) - payments, stats


def _waiting(engine: Engine, sessions: int) -> None:
    """Until ``sessions`` backends wait on a lock (polled, at most a minute)."""
    for _ in range(6_000):
        if len(lock_waiters(engine)) >= sessions:
            return
        time.sleep(0.01)
    raise AssertionError(f"fewer than {sessions} sessions ever waited on a lock")


def test_payments_of_a_credit_policy_customer_at_once_grant_the_policies_once(
    paying: Paying, engine: Engine, path: Path, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Four payments for the customer's four meters at once, each called back twice:
    four sales; the month's free gas granted and the emergency credit given once; an
    instalment recovered by each sale; the debt and the policy add up; the change of
    each in the wallet; the same on every path."""
    customer_id = paying.shop.customer_id
    _give_policy(engine, customer_id)
    txns = [paying.pay(pan, "15.07") for pan in paying.shop.pans]
    _at_once(paying, path, [t.callback_body("600000") for t in txns] * 2)
    with make_sessionmaker(engine)() as s:
        sales = s.execute(select(Sale)).scalars().all()
        assert len(sales) == 4
        grants = s.execute(select(FreeGasGrant)).scalars().all()
        assert [(g.customer_id, g.litres) for g in grants] == [(customer_id, 1_000)]
        free = [x for x in sales if "free_gas" in _kinds(x)]
        emergency = [x for x in sales if "emergency_credit" in _kinds(x)]
        assert [x.id for x in free] == [grants[0].sale_id]
        assert len(emergency) == 1
        # each sale recovers its instalment; a sale after the emergency credit also
        # repays that (the same on every path)
        recovered = [x.debt_recovered for x in sales]
        assert min(recovered) == INSTALMENT
        policy = s.get(CustomerPolicy, customer_id)
        assert policy is not None
        assert (policy.emergency_asked, policy.emergency_owed) == (0, 0)
        customer = s.get(Customer, customer_id)
        assert customer is not None
        given = sum(_amount(x, "emergency_credit") for x in sales)
        assert 0 < given <= ASKED
        assert sum(_amount(x, "emergency_repaid") for x in sales) == given
        assert customer.debt_balance == DEBT + given - sum(recovered)
        change = sum(1_507 - x.amount_paid for x in sales)
        assert change > 0
        assert wallet.balance_of(s, customer_id) == change
        states = s.execute(select(Payment.state)).scalars().all()
        assert states == [PaymentState.SOLD.value] * 4
    assert len(paying.sent_sms()) == 4
    assert ledger_balanced(engine)
    integrity(db_url, capsys)


def _kinds(sale: Sale) -> list[str]:
    return [ln["kind"] for ln in (sale.response or {}).get("policy_lines", [])]


def _amount(sale: Sale, kind: str) -> int:
    """The sale's policy line of ``kind`` in minor units (0: none)."""
    lines = (sale.response or {}).get("policy_lines", [])
    return sum(int(Decimal(ln["amount"]) * 100) for ln in lines if ln["kind"] == kind)


def test_payments_for_a_meter_with_a_pending_key_change_at_once_change_the_key_once(
    paying: Paying,
    engine: Engine,
    path: Path,
    security_module: SoftwareSecurityModule,
    db_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Two payments for the meter, the second waiting on the meter while the first
    changes its key: the first sale carries the key change tokens, the second only a
    credit token; both credit tokens are made under the new key with their own TID.
    (On PostgreSQL the second used to find no meter: its money went to the wallet on
    the thread path, and the event loop deferred it.)"""
    pan = paying.shop.pans[0]
    with make_sessionmaker(engine).begin() as s:
        new_sg = factories.supply_group(s, security_module, krn=2)
        meter = s.execute(select(Meter).where(Meter.pan == pan)).scalar_one()
        meter.pending_supply_group_id = new_sg_id = new_sg.id
    txns = [paying.pay(pan, "15.00") for _ in range(2)]
    hold = pan if path.backend == "postgresql" else None
    _at_once(paying, path, [t.callback_body("600000") for t in txns], hold=hold)
    with make_sessionmaker(engine)() as s:
        states = s.execute(select(Payment.state, Payment.detail)).all()
        assert [tuple(x) for x in states] == [(PaymentState.SOLD.value, "sold")] * 2
        sales = s.execute(select(Sale).order_by(Sale.id)).scalars().all()
        kinds = [[t["kind"] for t in (x.response or {})["tokens"]] for x in sales]
        assert kinds == [["kct", "kct", "credit"], ["credit"]]
        m = s.execute(select(Meter).where(Meter.pan == pan)).scalar_one()
        assert (m.supply_group_id, m.pending_supply_group_id) == (new_sg_id, None)
        key = meter_config(s, security_module, pan).key()
        credits = [decode((x.response or {})["tokens"][-1]["digits"], key) for x in sales]
        assert all(isinstance(c, CreditToken) for c in credits)
        tids = {(x.response or {})["tid"] for x in sales}
        assert (len(tids), m.last_tid) == (2, max(tids))
    assert len(paying.sent_sms()) == 2
    assert ledger_balanced(engine)
    integrity(db_url, capsys)
