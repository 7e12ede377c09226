"""The one money parser: exactly ASCII digits and the currency's decimals, all else 422."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stsgas.vending.errors import BadAmount
from stsgas.vending.kit.money import (
    MAX_DECIMALS,
    MAX_MINOR,
    format_money,
    minor_unit,
    parse_money,
    to_major,
)

CASES: dict[str, Any] = json.loads(
    (Path(__file__).resolve().parents[2] / "data" / "vending" / "money.json").read_text()
)
REFUSED = [(cls, value) for cls, values in CASES["refused"].items() for value in values]


@pytest.mark.parametrize("case", CASES["accepted"], ids=lambda c: repr(c["value"]))
def test_accepts_plain_digits_and_whole_numbers(case: dict[str, Any]) -> None:
    """A digit string or a JSON integer is read in major units, exactly."""
    minor = parse_money(
        case["value"],
        case["decimals"],
        negative=case.get("negative", False),
        decimal_comma=case.get("comma", False),
    )
    assert minor == case["minor"]
    assert type(minor) is int


@pytest.mark.parametrize(("cls", "value"), REFUSED, ids=lambda v: repr(v))
def test_refuses_every_other_spelling_with_bad_amount(cls: str, value: object) -> None:
    """Exponents, signs, floats, foreign digits, extra decimals, blanks: 422 bad_amount."""
    with pytest.raises(BadAmount) as caught:
        parse_money(value, 2)
    assert caught.value.code == "bad_amount"
    assert caught.value.status_code == 422


def test_a_whole_number_in_a_currency_without_decimals_has_no_point() -> None:
    """With 0 decimals, "5.0" has one decimal too many."""
    with pytest.raises(BadAmount):
        parse_money("5.0", 0)


def test_the_decimals_are_those_of_a_currency() -> None:
    """A misconfigured currency is a programming error, not a client's bad amount."""
    with pytest.raises(ValueError, match="decimals"):
        parse_money("5", MAX_DECIMALS + 1)
    with pytest.raises(ValueError, match="decimals"):
        format_money(5, -1)


@given(
    st.integers(min_value=0, max_value=MAX_DECIMALS).flatmap(
        lambda d: st.tuples(st.integers(min_value=-MAX_MINOR, max_value=MAX_MINOR), st.just(d))
    )
)
def test_parse_reads_back_what_format_writes(pair: tuple[int, int]) -> None:
    """parse(format(x)) == x for every amount a column can hold, at any decimals."""
    minor, decimals = pair
    text = format_money(minor, decimals)
    assert parse_money(text, decimals, negative=True) == minor
    if decimals:
        assert len(text.partition(".")[2]) == decimals


@given(
    st.integers(min_value=0, max_value=MAX_DECIMALS).flatmap(
        lambda d: st.tuples(st.integers(min_value=-MAX_MINOR, max_value=MAX_MINOR), st.just(d))
    )
)
def test_major_units_are_the_formatted_amount_exactly(pair: tuple[int, int]) -> None:
    """A receipt's Decimal shows what ``format_money`` writes: every digit, the
    currency's places, and it is a whole number of minor units."""
    minor, decimals = pair
    major = to_major(minor, decimals)
    assert str(major) == format_money(minor, decimals)
    assert major / minor_unit(decimals) == minor
    assert major.as_tuple().exponent == -decimals


@given(st.integers(min_value=0, max_value=10**12))
def test_a_json_integer_is_major_units(whole: int) -> None:
    """``1000`` is 1000.00, the same as the string "1000"."""
    assert parse_money(whole, 2) == parse_money(str(whole), 2) == whole * 100


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_no_float_is_money(value: float) -> None:
    """A JSON float is refused whatever its value, integral ones too."""
    with pytest.raises(BadAmount):
        parse_money(value, 2)


@given(
    st.text(alphabet=st.characters(blacklist_characters="0123456789."), min_size=1),
    st.integers(min_value=0, max_value=4),
)
def test_any_character_but_ascii_digits_and_the_point_is_refused(junk: str, where: int) -> None:
    """Insert anything else (a sign, a letter, a space, a foreign digit) into "12.50": refused."""
    text = "12.50"
    spoiled = text[:where] + junk + text[where:]
    with pytest.raises(BadAmount):
        parse_money(spoiled, 2)


@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=3, max_value=8))
def test_more_decimals_than_the_currency_has_is_refused(whole: int, digits: int) -> None:
    """Even trailing zeros: "1.000" is not a two-decimal amount."""
    with pytest.raises(BadAmount, match="decimals"):
        parse_money(f"{whole}." + "0" * digits, 2)
