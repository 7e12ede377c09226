"""A customer with a wallet and meters to spend it on, committed so threads and
HTTP requests (their own sessions) see it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from stsgas.vending.db import make_sessionmaker
from stsgas.vending.keys.security import SoftwareSecurityModule
from stsgas.vending.ledger.repository import LedgerRepository
from stsgas.vending.models import MeterMode, Operator, Role
from stsgas.vending.wallet import service as wallet
from tests.vending import factories

#: the test clock: every sale and top-up of these tests happens "now"
NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


@dataclass(frozen=True, slots=True, kw_only=True)
class WalletShop:
    """Ids and tokens of the committed wallet fixtures."""

    customer_id: int
    other_customer_id: int
    #: meters linked to the customer (volume, no charges: the price is what is paid)
    pans: tuple[str, ...]
    other_pan: str
    admin_id: int
    admin_token: str
    #: a supervisor selling for no vendor: it may sell only from wallets
    seller_id: int
    seller_token: str


def make_wallet_shop(
    engine: Engine,
    security_module: SoftwareSecurityModule,
    make_operator: Callable[..., tuple[Operator, str]],
    *,
    meters: int = 4,
) -> WalletShop:
    """Build and commit the customer, its meters, another customer's meter, an admin."""
    with make_sessionmaker(engine).begin() as s:
        sg = factories.supply_group(s, security_module)
        t = factories.tariff(s, mode=MeterMode.VOLUME)
        cust = factories.customer(s, phone="+255700000042")
        other = factories.customer(s, name="Grace Hopper", phone="+255700000043")
        pans = tuple(factories.meter(s, sg, customer=cust, tariff=t).pan for _ in range(meters))
        other_pan = factories.meter(s, sg, customer=other, tariff=t).pan
        ids = (cust.id, other.id)
    admin, token = make_operator(Role.ADMIN, username="walletadmin")
    seller, seller_token = make_operator(Role.SUPERVISOR, username="walletseller")
    return WalletShop(
        customer_id=ids[0],
        other_customer_id=ids[1],
        pans=pans,
        other_pan=other_pan,
        admin_id=admin.id,
        admin_token=token,
        seller_id=seller.id,
        seller_token=seller_token,
    )


@pytest.fixture
def wallet_shop(
    engine: Engine,
    security_module: SoftwareSecurityModule,
    make_operator: Callable[..., tuple[Operator, str]],
) -> WalletShop:
    """The committed wallet fixtures."""
    return make_wallet_shop(engine, security_module, make_operator)


def fund(engine: Engine, customer_id: int, amount: int, key: str = "fund-1") -> int:
    """Pay ``amount`` in at the counter for the customer; the balance after."""
    with make_sessionmaker(engine).begin() as s:
        return wallet.counter_top_up(s, customer_id, amount, key=key, now=NOW).balance


def ledger_balanced(engine: Engine) -> bool:
    """Sum of debits equals sum of credits, and no journal is unbalanced."""
    with make_sessionmaker(engine)() as s:
        repo = LedgerRepository(s)
        debit, credit = repo.totals()
        return debit == credit and repo.unbalanced_journals() == []
