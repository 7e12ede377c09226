"""Property tests of the field-settings values the vending side writes into a command:
every in-range value survives the trip through the command text unchanged in worth,
and every value outside the meter's safe range is refused before anyone asks."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stsgas.irproto import parse_settings, settings_text
from stsgas.vending.management.ir_settings import NAMES, SettingOutOfRange, normalise

#: (low, high, places) of the decimal settings, as the meter's safe ranges say
DECIMALS = {
    "overdraft": ("0", "50", 3),
    "recharge_limit": ("0.001", "100000", 3),
    "low_credit_alarm": ("0", "1000", 3),
    "battery_low_1_v": ("3.00", "3.60", 2),
    "battery_low_2_v": ("2.80", "3.50", 2),
    "excess_flow_m3h": ("0.5", "50", 3),
    "leak_flow_m3h": ("0.001", "1", 3),
}
INTEGERS = {
    "auto_clean_days": (0, 365),
    "billing_day": (1, 28),
    "excess_flow_s": (5, 3600),
    "leak_s": (600, 172800),
}


def _decimal(name: str, inside: bool) -> st.SearchStrategy[tuple[str, str]]:
    lo, hi, places = DECIMALS[name]
    step = Decimal(1).scaleb(-places)
    low, high = int(Decimal(lo) / step), int(Decimal(hi) / step)
    ints = (
        st.integers(low, high)
        if inside
        else st.one_of(st.integers(high + 1, high * 10 + 1), st.integers(0, max(low - 1, 0)))
    )
    if not inside and low == 0:
        ints = st.integers(high + 1, high * 10 + 1)
    return ints.map(lambda n: (name, format(n * step, "f")))


@given(
    st.lists(st.sampled_from(sorted(DECIMALS)), min_size=1, max_size=4, unique=True).flatmap(
        lambda names: st.tuples(*(_decimal(n, True) for n in names))
    ),
    st.dictionaries(
        st.sampled_from(sorted(INTEGERS)),
        st.integers(0, 172800),
        max_size=2,
    ),
)
def test_in_range_values_read_back_worth_the_same(
    decimals: tuple[tuple[str, str], ...], integers: dict[str, int]
) -> None:
    """A value inside its range is taken; the command's pair reads back equal in worth."""
    asked: dict[str, object] = dict(decimals)
    asked.update({k: v for k, v in integers.items() if INTEGERS[k][0] <= v <= INTEGERS[k][1]})
    low1, low2 = asked.get("battery_low_1_v"), asked.get("battery_low_2_v")
    if low1 is not None and low2 is not None and Decimal(str(low2)) >= Decimal(str(low1)):
        with pytest.raises(SettingOutOfRange):
            normalise(asked)
        return
    out = normalise(asked)
    assert list(out) == [n for n in NAMES if n in asked]  # the command's order
    back = dict(parse_settings(settings_text(list(out.items()))))
    for name, value in asked.items():
        if name in DECIMALS:
            assert Decimal(back[name]) == Decimal(str(value))
        else:
            assert int(back[name]) == value


@given(st.sampled_from(sorted(DECIMALS)).flatmap(lambda n: _decimal(n, False)))
def test_out_of_range_decimals_are_refused(pair: tuple[str, str]) -> None:
    """A decimal outside the meter's safe range never gets into a command."""
    with pytest.raises(SettingOutOfRange):
        normalise(dict([pair]))


@given(
    st.sampled_from(sorted(INTEGERS)).flatmap(
        lambda n: st.one_of(
            st.integers(INTEGERS[n][1] + 1, 10**7), st.integers(-(10**7), INTEGERS[n][0] - 1)
        ).map(lambda v: (n, v))
    )
)
def test_out_of_range_integers_are_refused(pair: tuple[str, int]) -> None:
    """An integer outside the meter's safe range never gets into a command."""
    with pytest.raises(SettingOutOfRange):
        normalise(dict([pair]))


@given(st.text(max_size=40))
def test_any_zone_text_is_a_known_zone_or_refused(text: str) -> None:
    """A timezone is a zone zoneinfo knows, written so it cannot break the pair list."""
    try:
        out = normalise({"timezone": text})
    except SettingOutOfRange:
        return
    assert parse_settings(settings_text(list(out.items()))) == (("timezone", text.strip()),)
