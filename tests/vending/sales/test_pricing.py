"""The pure pricing function: items add up, nothing negative, more money never buys less."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stsgas.vending.errors import BadAmount
from stsgas.vending.sales.pricing import Step, price

STEPS = [Step(up_to_litres=10_000, price_per_m3=150), Step(up_to_litres=30_000, price_per_m3=200),
         Step(up_to_litres=None, price_per_m3=300)]


@settings(max_examples=150, deadline=None)
@given(
    paid=st.integers(1, 10**8),
    fixed=st.integers(0, 500),
    tax=st.integers(0, 3000),
    recovery=st.integers(0, 5000),
    debt=st.integers(0, 10**6),
    month=st.integers(0, 50_000),
    volume=st.booleans(),
)
def test_items_add_up(paid: int, fixed: int, tax: int, recovery: int, debt: int, month: int,
                      volume: bool) -> None:
    """fixed + debt + tax + energy == paid, each item ≥ 0, debt never over-recovered."""
    try:
        p = price(paid=paid, volume_mode=volume, fixed_charge=fixed, tax_rate_bp=tax,
                  debt_recovery_bp=recovery, debt=debt, steps=STEPS, month_litres=month)
    except BadAmount:
        assert paid <= fixed or volume
        return
    assert p.fixed_charge + p.debt_recovered + p.tax + p.energy_amount == paid
    assert min(p.fixed_charge, p.debt_recovered, p.tax, p.energy_amount) >= 0
    assert p.debt_recovered <= debt
    if volume:
        assert p.credit_units is not None
        assert sum(u.amount for u in p.steps) <= p.energy_amount
    else:
        assert p.credit_money == p.energy_amount


@settings(max_examples=100, deadline=None)
@given(a=st.integers(100, 10**7), b=st.integers(0, 10**6), month=st.integers(0, 40_000))
def test_more_money_never_buys_less(a: int, b: int, month: int) -> None:
    """Volume credit is monotone in the payment."""
    def units(paid: int) -> int:
        p = price(paid=paid, volume_mode=True, fixed_charge=0, tax_rate_bp=0,
                  debt_recovery_bp=0, debt=0, steps=STEPS, month_litres=month)
        assert p.credit_units is not None
        return p.credit_units
    assert units(a + b) >= units(a)


def test_steps_follow_the_month() -> None:
    """The first 10 m³ of a month cost 1.50; after 10 m³ the price is 2.00."""
    fresh = price(paid=1500, volume_mode=True, fixed_charge=0, tax_rate_bp=0,
                  debt_recovery_bp=0, debt=0, steps=STEPS, month_litres=0)
    later = price(paid=1500, volume_mode=True, fixed_charge=0, tax_rate_bp=0,
                  debt_recovery_bp=0, debt=0, steps=STEPS, month_litres=10_000)
    assert fresh.credit_units == 100  # 10.0 m³
    assert later.credit_units == 75  # 7.5 m³
    crossing = price(paid=1500, volume_mode=True, fixed_charge=0, tax_rate_bp=0,
                     debt_recovery_bp=0, debt=0, steps=STEPS, month_litres=5_000)
    assert [u.position for u in crossing.steps] == [1, 2]
    with pytest.raises(BadAmount):
        price(paid=10, volume_mode=True, fixed_charge=0, tax_rate_bp=0, debt_recovery_bp=0,
              debt=0, steps=STEPS, month_litres=0)
