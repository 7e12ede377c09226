"""The LCD's credit text: the integer formatter prints what the Decimal readout prints."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from stsgas.meter.registers import credit_text
from stsgas.meter.tariff import units_to_money

units = st.integers(min_value=-(10**15), max_value=10**15) | st.sampled_from(
    [0, 1, -1, 10, 999, 1000, -1000, 1500, 100_000, 150_000, 123_450, -50_000]
)


@settings(max_examples=500, deadline=None)
@given(units)
def test_volume_text_is_the_decimal_m3(u: int) -> None:
    """Volume mode: litres / 1000 exactly as ``Decimal(units) / 1000`` prints (no trailing
    zeros, no exponent), negative in overdraft."""
    assert credit_text(u, 3, 0) == str(Decimal(u) / 1000)


@settings(max_examples=500, deadline=None)
@given(units)
def test_amount_text_is_the_money_readout(u: int) -> None:
    """Amount mode: 1e-5 units as ``units_to_money`` prints them (two decimals at least)."""
    assert credit_text(u, 5, 2) == str(units_to_money(u))
