"""The credit policies' arithmetic (pure): each rule, and properties over any payment."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stsgas.vending.errors import BadAmount
from stsgas.vending.policies.rules import (
    EMERGENCY_GIVEN,
    EMERGENCY_REPAID,
    FREE_GAS,
    INSTALMENT,
    DebtPlan,
    PolicyPriced,
    PolicyState,
    price,
)
from stsgas.vending.sales.pricing import Step

STEPS = [
    Step(up_to_litres=10_000, price_per_m3=150),
    Step(up_to_litres=30_000, price_per_m3=200),
    Step(up_to_litres=None, price_per_m3=300),
]


def _price(cash: int, state: PolicyState, *, volume: bool = True, fixed: int = 0) -> PolicyPriced:
    return price(
        cash=cash,
        volume_mode=volume,
        fixed_charge=fixed,
        fixed_months=None,
        tax_rate_bp=1500,
        debt_recovery_bp=0,
        steps=STEPS,
        month_litres=0,
        state=state,
    )


def test_free_gas_is_the_months_first_litres() -> None:
    """6 m³ free at the first block's 1.50 (9.00), then the paid gas from 6 m³ on."""
    state = PolicyState(customer_id=1, debt=0, month="2026-12", free_litres=6_000)
    p = price(
        cash=2300,
        volume_mode=True,
        fixed_charge=0,
        fixed_months=None,
        tax_rate_bp=1500,
        debt_recovery_bp=0,
        steps=STEPS,
        month_litres=0,
        state=state,
    )
    free = p.line(FREE_GAS)
    assert free is not None
    assert (p.free_value, free.units) == (900, 60)
    # 23.00 incl. 15% tax = 20.00 of gas: 4 m³ at 1.50 (6.00) then 7 m³ at 2.00 (14.00)
    assert p.energy_amount == 2000
    assert p.credit_units == 60 + 110


def test_a_plan_recovers_within_its_bounds_and_never_more_than_the_debt() -> None:
    """Fixed 10.00 with a 2.00 minimum and 8.00 maximum: 8.00; a 5.00 debt: 5.00."""
    plan = DebtPlan(kind="fixed", amount=1000, min=200, max=800)
    assert plan.instalment(base=5000, debt=10_000) == 800
    assert plan.instalment(base=5000, debt=500) == 500
    assert plan.instalment(base=300, debt=10_000) == 300  # never more than the sale
    pct = DebtPlan(kind="percent", bp=1000, min=200)
    assert pct.instalment(base=1000, debt=10_000) == 200  # 10% = 1.00, raised to the minimum
    assert pct.instalment(base=50_000, debt=10_000) == 5000


def test_emergency_advance_is_given_then_repaid_at_most_half() -> None:
    """An advance of 11.50 buys 10.00 of gas (+ tax); it is owed, and the next sale
    repays at most half of what is left after the fixed charge."""
    given_ = _price(2300, PolicyState(customer_id=1, debt=0, month="m", emergency_asked=1150))
    adv = given_.line(EMERGENCY_GIVEN)
    assert adv is not None
    assert adv.amount == 1150
    assert adv.units is not None
    repaid = _price(
        2000, PolicyState(customer_id=1, debt=1150, month="m", emergency_owed=1150), fixed=100
    )
    back = repaid.line(EMERGENCY_REPAID)
    assert back is not None
    assert back.amount == 950
    assert repaid.debt_recovered == 950


def test_an_instalment_that_leaves_nothing_refuses_the_sale() -> None:
    """A minimum above the payment: the sale is refused (bad_amount), nothing recovered."""
    plan = DebtPlan(kind="fixed", amount=100, min=5000)
    with pytest.raises(BadAmount):
        _price(1000, PolicyState(customer_id=1, debt=10_000, month="m", plan=plan))


@given(
    cash=st.integers(1, 200_000),
    fixed=st.integers(0, 500),
    debt=st.integers(0, 50_000),
    owed_share=st.integers(0, 100),
    asked=st.integers(0, 5000),
    free=st.sampled_from([None, 1000, 6000]),
    plan=st.one_of(
        st.none(),
        st.builds(
            DebtPlan,
            kind=st.just("fixed"),
            amount=st.integers(1, 20_000),
            min=st.one_of(st.none(), st.integers(0, 500)),
            max=st.one_of(st.none(), st.integers(500, 30_000)),
        ),
        st.builds(
            DebtPlan,
            kind=st.just("percent"),
            bp=st.integers(1, 10_000),
            min=st.one_of(st.none(), st.integers(0, 500)),
            max=st.one_of(st.none(), st.integers(500, 30_000)),
        ),
    ),
    volume=st.booleans(),
)
def test_any_sale_adds_up_and_never_over_recovers(
    cash: int,
    fixed: int,
    debt: int,
    owed_share: int,
    asked: int,
    free: int | None,
    plan: DebtPlan | None,
    volume: bool,
) -> None:
    """Whatever the policy: the items add up to what is paid, the recovery is never
    more than the debt or the payment, and the token carries at least the paid gas."""
    owed = debt * owed_share // 100
    state = PolicyState(
        customer_id=1,
        debt=debt,
        month="m",
        free_litres=free,
        free_money=free,
        emergency_asked=asked,
        emergency_owed=owed,
        plan=plan,
    )
    try:
        p = _price(cash, state, volume=volume, fixed=fixed)
    except BadAmount:
        return
    assert p.paid == p.fixed_charge + p.debt_recovered + p.tax + p.energy_amount
    assert p.paid + p.change == cash
    assert 0 <= p.debt_recovered <= min(debt, cash - fixed)
    assert p.emergency_repaid <= owed
    recovered = sum(ln.amount for ln in p.lines if ln.kind in (EMERGENCY_REPAID, INSTALMENT))
    assert recovered <= p.debt_recovered
    credit = p.credit_units if volume else p.credit_money
    assert credit is not None
    assert credit > 0
