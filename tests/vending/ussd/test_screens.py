"""The closing screens fit a USSD screen whatever the API's refusal says."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from stsgas.vending.ussd.screens import refused_screen


@given(reason=st.text(max_size=1000))
def test_a_refusal_fits_one_screen(reason: str) -> None:
    shown = refused_screen(reason).render()
    assert shown.startswith("END Not done: ")
    assert shown.endswith(". No money was taken.")
    assert len(shown) <= 182


def test_a_short_reason_is_quoted_whole() -> None:
    assert refused_screen("meter blocked").text == "Not done: meter blocked. No money was taken."
