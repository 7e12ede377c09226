"""A meter reading typed for a take-back reads back what the preview showed, in the
meter's own units (litres by volume, 10^-5 of the currency by amount)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from stsgas.vending.sales.cancel_plan import parse_reading, shown


@given(litres=st.integers(-(10**12) + 1, 10**12 - 1))
def test_a_shown_volume_reads_back_to_the_litre(litres: int) -> None:
    """What the preview shows in m³ (at least 0.1) is the same litres typed back."""
    text = shown(litres, "volume")
    assert text.endswith(" m³")
    assert parse_reading(text.removesuffix(" m³"), "volume") == litres


@given(units=st.integers(-(10**14) + 1, 10**14 - 1))
def test_a_shown_money_credit_reads_back_to_the_token_unit(units: int) -> None:
    """What the preview shows as money (at least 0.01) is the same 10^-5 units typed back."""
    assert parse_reading(shown(units, "amount"), "amount") == units
