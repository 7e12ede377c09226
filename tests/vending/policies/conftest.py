"""A town for credit-policy tests: one customer with two by-volume meters (so two sales
of one customer can run at once), another with a by-amount meter, a vendor float, a
cashier and a supervisor. Helpers post real API requests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select

from stsgas.vending.db import make_sessionmaker
from stsgas.vending.keys.security import SoftwareSecurityModule
from stsgas.vending.ledger.repository import LedgerRepository
from stsgas.vending.models import (
    Customer,
    CustomerPolicy,
    FreeGasGrant,
    LedgerEntry,
    MeterMode,
    Operator,
    Role,
    Sale,
    Vendor,
)
from tests.vending import factories
from tests.vending.conftest import auth

FLOAT = 10_000_000


@dataclass(frozen=True, slots=True, kw_only=True)
class Town:
    """Ids, meter numbers and tokens of the committed town."""

    customer_id: int
    volume_pans: tuple[str, str]
    amount_customer_id: int
    amount_pan: str
    cashier_token: str
    supervisor_token: str


@pytest.fixture
def town(
    engine: Engine,
    security_module: SoftwareSecurityModule,
    make_operator: Callable[..., tuple[Operator, str]],
) -> Town:
    """Volume tariff: 1.50 per m³ for 10 m³, 2.00 to 30 m³, then 3.00; tax 15%."""
    with make_sessionmaker(engine).begin() as s:
        sg = factories.supply_group(s, security_module)
        vol_t = factories.tariff(s, mode=MeterMode.VOLUME, tax_rate_bp=1500)
        amt_t = factories.tariff(s, mode=MeterMode.AMOUNT, tax_rate_bp=1500)
        cust = factories.customer(s)
        other = factories.customer(s, name="Grace Hopper", phone="+255700000002")
        m1 = factories.meter(s, sg, customer=cust, tariff=vol_t)
        m2 = factories.meter(s, sg, customer=cust, tariff=vol_t)
        amt = factories.meter(s, sg, customer=other, tariff=amt_t, mode=MeterMode.AMOUNT)
        vendor = Vendor(name="Town Kiosk", float_balance=FLOAT)
        s.add(vendor)
        s.flush()
        ids = (cust.id, m1.pan, m2.pan, other.id, amt.pan, vendor.id)
    _c, ctoken = make_operator(Role.CASHIER, username="towncashier", vendor_id=ids[5])
    _s, stoken = make_operator(Role.SUPERVISOR, username="townsuper", vendor_id=ids[5])
    return Town(
        customer_id=ids[0],
        volume_pans=(ids[1], ids[2]),
        amount_customer_id=ids[3],
        amount_pan=ids[4],
        cashier_token=ctoken,
        supervisor_token=stoken,
    )


def sell(client: httpx.Client, town: Town, pan: str, amount: str, **extra: Any) -> dict[str, Any]:
    """A sale at the counter; asserts it was made (any client: a TestClient is one)."""
    r = client.post(
        "/api/v1/sales",
        json={"meter_number": pan, "amount": amount, **extra},
        headers=auth(town.cashier_token),
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def lines(receipt: dict[str, Any]) -> dict[str, tuple[str, str | None]]:
    """The receipt's policy lines by kind: (amount, m³ or None)."""
    return {ln["kind"]: (ln["amount"], ln["units"]) for ln in receipt.get("policy_lines", [])}


def set_policy(client: httpx.Client, town: Town, customer_id: int, body: dict[str, Any]) -> Any:
    """PUT a customer's policy as the supervisor."""
    return client.put(
        f"/api/v1/customers/{customer_id}/policy", json=body, headers=auth(town.supervisor_token)
    )


def new_class(client: httpx.Client, town: Town, body: dict[str, Any]) -> dict[str, Any]:
    """POST a customer class as the supervisor."""
    r = client.post("/api/v1/customer-classes", json=body, headers=auth(town.supervisor_token))
    assert r.status_code == 201, r.text
    return dict(r.json())


def debt(engine: Engine, customer_id: int) -> int:
    """The customer's debt balance in minor units."""
    with make_sessionmaker(engine)() as s:
        return int(
            s.execute(select(Customer.debt_balance).where(Customer.id == customer_id)).scalar_one()
        )


def policies_written(
    engine: Engine,
    sale: Sale,
    customer_id: int,
    *,
    debt_before: int,
    instalment: int,
    given: int,
    journal: int,
) -> None:
    """What a sale of a customer with a lifeline policy (1 m³ of free gas a month, an
    instalment, emergency credit asked) writes beside its receipt, whichever path sold
    it: the instalment recovered, the month's free gas granted to this sale, the
    emergency credit ``given`` now owed, the debt moved by both, and ``journal`` lines
    of the policies' own journal. The counter's and mobile money's tests check alike."""
    assert sale.debt_recovered == instalment
    with make_sessionmaker(engine)() as s:
        grants = s.execute(select(FreeGasGrant)).scalars().all()
        assert [(g.customer_id, g.sale_id, g.litres) for g in grants] == [
            (customer_id, sale.id, 1_000)
        ]
        policy = s.get(CustomerPolicy, customer_id)
        assert policy is not None
        assert (policy.emergency_asked, policy.emergency_owed) == (0, given)
        customer = s.get(Customer, customer_id)
        assert customer is not None
        assert customer.debt_balance == debt_before - instalment + given
        memo = f"sale {sale.id}: credit policies"
        lines = s.execute(
            select(func.count()).select_from(LedgerEntry).where(LedgerEntry.memo == memo)
        ).scalar_one()
        assert lines == journal


def ledger_balanced(engine: Engine) -> None:
    """Every journal balances, and so does the whole ledger."""
    with make_sessionmaker(engine)() as s:
        repo = LedgerRepository(s)
        debit, credit = repo.totals()
        assert debit == credit
        assert repo.unbalanced_journals() == []
