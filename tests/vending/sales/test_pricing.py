"""The pure pricing function: items add up, nothing negative, more money never buys less."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stsgas.vending.errors import BadAmount
from stsgas.vending.ledger import service as ledger
from stsgas.vending.ledger.service import UnbalancedJournal
from stsgas.vending.sales.compose import journal_lines
from stsgas.vending.sales.pricing import Priced, Step, price

DATA = Path(__file__).resolve().parents[2] / "data" / "vending"

STEPS = [
    Step(up_to_litres=10_000, price_per_m3=150),
    Step(up_to_litres=30_000, price_per_m3=200),
    Step(up_to_litres=None, price_per_m3=300),
]


def _price_of(litres: int, month: int) -> int:
    """Reference: the money ``litres`` cost after ``month`` litres this month, litre
    block by litre block (each step's share rounded up), written apart from pricing."""
    total, lower = 0, 0
    for step in STEPS:
        upper = step.up_to_litres if step.up_to_litres is not None else 10**12
        share = max(0, min(month + litres, upper) - max(month, lower))
        total += -(-share * step.price_per_m3 // 1000)
        lower = upper
    return total


def _with_tax(money: int, tax_bp: int) -> int:
    return money + -(-money * tax_bp // 10_000)


@settings(max_examples=300, deadline=None)
@given(
    paid=st.integers(1, 10**8),
    fixed=st.integers(0, 500),
    tax=st.integers(0, 3000),
    recovery=st.integers(0, 5000),
    debt=st.integers(0, 10**6),
    month=st.integers(0, 50_000),
    volume=st.booleans(),
)
def test_items_add_up(
    paid: int, fixed: int, tax: int, recovery: int, debt: int, month: int, volume: bool
) -> None:
    """fixed + debt + tax + energy + change == tendered, each item ≥ 0, debt never
    over-recovered; a sale is refused exactly when the money left after the fixed
    charge and the debt buys nothing (by volume: not the next 0.1 m³ with its tax)."""
    left = paid - fixed
    left -= min(debt, left * recovery // 10_000) if left > 0 else 0
    if paid <= fixed:
        refused = True
    elif volume:
        refused = _with_tax(_price_of(100, month), tax) > left
    else:
        refused = left * 10_000 // (10_000 + tax) == 0
    try:
        p = price(
            paid=paid,
            volume_mode=volume,
            fixed_charge=fixed,
            tax_rate_bp=tax,
            debt_recovery_bp=recovery,
            debt=debt,
            steps=STEPS,
            month_litres=month,
        )
    except BadAmount:
        assert refused
        return
    assert not refused
    assert p.fixed_charge + p.debt_recovered + p.tax + p.energy_amount == p.paid
    assert p.paid + p.change == p.tendered == paid
    assert min(p.fixed_charge, p.debt_recovered, p.tax, p.energy_amount, p.change) >= 0
    assert p.debt_recovered <= debt
    if volume:
        assert p.credit_units is not None
        # exactly the credited gas is charged, with its tax
        assert p.energy_amount == sum(u.amount for u in p.steps)
        assert p.energy_amount == _price_of(p.credit_units * 100, month)
        assert sum(u.litres for u in p.steps) == p.credit_units * 100
        assert p.tax == -(-p.energy_amount * tax // 10_000)
        # the change cannot buy another 0.1 m³ with its tax
        assert _with_tax(_price_of((p.credit_units + 1) * 100, month), tax) > left
    else:
        assert p.change == 0
        assert p.credit_money == p.energy_amount


@settings(max_examples=100, deadline=None)
@given(a=st.integers(100, 10**7), b=st.integers(0, 10**6), month=st.integers(0, 40_000))
def test_more_money_never_buys_less(a: int, b: int, month: int) -> None:
    """Volume credit is monotone in the payment."""

    def units(paid: int) -> int:
        credit = _volume(paid, month).credit_units
        assert credit is not None
        return credit

    assert units(a + b) >= units(a)


CASES = json.loads((DATA / "pricing-cases.json").read_text())["cases"]


def _volume(paid: int, month: int) -> Priced:
    """A volume sale under the test tariff, no fixed charge, tax or debt."""
    return price(
        paid=paid,
        volume_mode=True,
        fixed_charge=0,
        tax_rate_bp=0,
        debt_recovery_bp=0,
        debt=0,
        steps=STEPS,
        month_litres=month,
    )


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_priced_examples(case: dict[str, Any]) -> None:
    """Worked examples: what a payment buys as the month's steps fill up."""
    if case.get("refused"):
        with pytest.raises(BadAmount):
            _volume(case["paid"], case["month"])
        return
    p = _volume(case["paid"], case["month"])
    assert {k: getattr(p, k) for k in case.get("expect", {})} == case.get("expect", {})
    if "positions" in case:
        assert [u.position for u in p.steps] == case["positions"]


@settings(max_examples=150, deadline=None)
@given(
    paid=st.integers(200, 10**7),
    month=st.integers(0, 50_000),
    tax=st.integers(0, 3000),
    volume=st.booleans(),
)
def test_the_journal_of_a_priced_sale_balances_and_the_guard_catches_a_slip(
    paid: int, month: int, tax: int, volume: bool
) -> None:
    """The payer pays what the sale charged (not what was tendered): the journal
    balances; debiting one minor unit more is caught by ``check_balanced``."""
    p = price(
        paid=paid,
        volume_mode=volume,
        fixed_charge=100,
        tax_rate_bp=tax,
        debt_recovery_bp=1000,
        debt=5000,
        steps=STEPS,
        month_litres=month,
    )

    def lines(debit: int) -> list[ledger.Line]:
        return journal_lines(
            vendor_id=1,
            channel="pos",
            paid=debit,
            energy=p.energy_amount,
            fixed=p.fixed_charge,
            tax=p.tax,
            debt=p.debt_recovered,
        )

    ledger.check_balanced(lines(p.paid), "sale")
    with pytest.raises(UnbalancedJournal):
        ledger.check_balanced(lines(p.tendered if p.change else p.paid + 1), "sale")
