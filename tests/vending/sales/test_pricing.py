"""The pure pricing function: items add up, nothing negative, more money never buys less."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stsgas.vending.errors import BadAmount
from stsgas.vending.ledger import service as ledger
from stsgas.vending.ledger.service import UnbalancedJournal
from stsgas.vending.sales.compose import journal_lines
from stsgas.vending.sales.pricing import Step, price

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


def test_a_volume_sale_charges_only_the_credited_gas() -> None:
    """10.99 at 1.50/m³ buys 7.3 m³ (10.95); the 0.04 left is change, not charged."""
    p = price(
        paid=1099,
        volume_mode=True,
        fixed_charge=0,
        tax_rate_bp=0,
        debt_recovery_bp=0,
        debt=0,
        steps=STEPS,
        month_litres=0,
    )
    assert (p.credit_units, p.energy_amount, p.paid, p.change) == (73, 1095, 1095, 4)


@settings(max_examples=100, deadline=None)
@given(a=st.integers(100, 10**7), b=st.integers(0, 10**6), month=st.integers(0, 40_000))
def test_more_money_never_buys_less(a: int, b: int, month: int) -> None:
    """Volume credit is monotone in the payment."""

    def units(paid: int) -> int:
        p = price(
            paid=paid,
            volume_mode=True,
            fixed_charge=0,
            tax_rate_bp=0,
            debt_recovery_bp=0,
            debt=0,
            steps=STEPS,
            month_litres=month,
        )
        assert p.credit_units is not None
        return p.credit_units

    assert units(a + b) >= units(a)


def test_steps_follow_the_month() -> None:
    """The first 10 m³ of a month cost 1.50; after 10 m³ the price is 2.00."""
    fresh = price(
        paid=1500,
        volume_mode=True,
        fixed_charge=0,
        tax_rate_bp=0,
        debt_recovery_bp=0,
        debt=0,
        steps=STEPS,
        month_litres=0,
    )
    later = price(
        paid=1500,
        volume_mode=True,
        fixed_charge=0,
        tax_rate_bp=0,
        debt_recovery_bp=0,
        debt=0,
        steps=STEPS,
        month_litres=10_000,
    )
    assert fresh.credit_units == 100  # 10.0 m³
    assert later.credit_units == 75  # 7.5 m³
    crossing = price(
        paid=1500,
        volume_mode=True,
        fixed_charge=0,
        tax_rate_bp=0,
        debt_recovery_bp=0,
        debt=0,
        steps=STEPS,
        month_litres=5_000,
    )
    assert [u.position for u in crossing.steps] == [1, 2]
    with pytest.raises(BadAmount):
        price(
            paid=10,
            volume_mode=True,
            fixed_charge=0,
            tax_rate_bp=0,
            debt_recovery_bp=0,
            debt=0,
            steps=STEPS,
            month_litres=0,
        )


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
