"""Meter numbers: DRN or PAN accepted, check digits enforced."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stsgas.sts import pan_from_iin_drn
from stsgas.sts.identity import drn_with_check
from stsgas.vending.errors import BadMeterNumber
from stsgas.vending.meters.numbers import parse_meter_number

DRN = drn_with_check("0112345678")
PAN = pan_from_iin_drn("600727", DRN)


def test_drn_and_pan_name_the_same_meter() -> None:
    """An 11-digit DRN, the 18-digit PAN and a spaced form all give one PAN."""
    spaced = f"{DRN[:4]} {DRN[4:8]}-{DRN[8:]}"
    assert {
        parse_meter_number(DRN).pan,
        parse_meter_number(PAN).pan,
        parse_meter_number(spaced).pan,
    } == {PAN}


def test_thirteen_digit_drn_uses_iin_0000() -> None:
    """A 13-digit DRN belongs to IIN 0000."""
    drn = drn_with_check("000112345678")
    assert parse_meter_number(drn).iin == "0000"


@pytest.mark.parametrize(
    "text",
    [
        DRN[:-1] + str((int(DRN[-1]) + 1) % 10),  # DRN check digit off
        PAN[:-1] + str((int(PAN[-1]) + 1) % 10),  # PAN check digit off
        DRN[:2] + DRN[3] + DRN[2] + DRN[4:],  # two neighbours swapped (Luhn catches it)
        "12345",  # wrong length
        "6007270000000000ab",  # not digits
        "",
    ],
)
def test_bad_numbers_are_refused(text: str) -> None:
    """Typos, wrong lengths and letters raise BadMeterNumber."""
    with pytest.raises(BadMeterNumber):
        parse_meter_number(text)


@settings(max_examples=150, deadline=None)
@given(
    body=st.text(alphabet="0123456789", min_size=10, max_size=10),
    pos=st.integers(0, 10),
    delta=st.integers(1, 9),
)
def test_any_single_digit_typo_is_caught(body: str, pos: int, delta: int) -> None:
    """Every valid DRN parses, and changing any one digit of it is refused."""
    drn = drn_with_check(body)
    assert parse_meter_number(drn).drn == drn
    typo = drn[:pos] + str((int(drn[pos]) + delta) % 10) + drn[pos + 1 :]
    with pytest.raises(BadMeterNumber):
        parse_meter_number(typo)
