"""The readout codec: decimal text to litres and back, JSON fractions refused, bounds held."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stsgas.vending.readouts.errors import BadReadout, ReadoutFormat, ReadoutTooLarge
from stsgas.vending.readouts.parse import (
    MAX_EVENTS,
    MAX_HOURS,
    MAX_MONTHS,
    litres,
    litres_text,
    parse_readout,
)
from tests.vending.readouts.office import as_bytes, readout_bytes, readout_json


def test_the_ten_year_file_reads_whole() -> None:
    """120 months, 336 hours, 6 events; times in UTC; volumes in litres."""
    r = parse_readout(readout_bytes("office-120m.json"), decimals=2)
    assert (len(r.monthly), len(r.hourly), len(r.events)) == (120, 336, 6)
    assert r.read_at == datetime(2026, 12, 5, 7, tzinfo=UTC)
    assert r.monthly[0].month == "2017-01"
    assert r.monthly[0].litres == 11_200
    assert r.events[3].code == "magnetic_interference"
    assert r.events[3].at == datetime(2026, 11, 20, 0, 12, 44, tzinfo=UTC)
    assert r.settings["auto_clean_days"] == "30"


def test_money_months_read_in_minor_units() -> None:
    """An amount meter's "30.00" is 3000 minor units at two decimals."""
    r = parse_readout(readout_bytes("office-amount.json"), decimals=2)
    assert [m.amount for m in r.monthly] == [3000, 3600, 6000]


@given(st.integers(min_value=0, max_value=10**15 - 1))
def test_litres_round_trip(count: int) -> None:
    """Every whole litre count survives text and back."""
    assert litres(litres_text(count), "x") == count


@given(st.decimals(min_value=0, max_value=10**9, places=3, allow_nan=False))
def test_three_decimal_m3_is_exact_litres(value: Decimal) -> None:
    """A decimal string of m³ with three places is exactly its litres (no float)."""
    assert litres(f"{value:f}", "x") == int(value * 1000)


@pytest.mark.parametrize(
    "text", ["1.2345", "-1.000", "1e3", "1_000", " 1.0", "", "١.٠", "NaN", "1."]
)
def test_volume_text_other_than_plain_decimals_is_refused(text: str) -> None:
    """Exponents, signs, separators, other scripts' digits, four decimals: refused."""
    with pytest.raises(BadReadout):
        litres(text, "monthly[0].volume_m3")


@given(st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: f != int(f)))
def test_a_json_fraction_anywhere_is_refused(value: float) -> None:
    """A float volume, register or setting: the file is refused."""
    for where in ("monthly", "registers", "settings"):
        data = readout_json("office-a.json")
        if where == "monthly":
            data["monthly"][0]["volume_m3"] = value
        else:
            data[where]["credit"] = value
        with pytest.raises(BadReadout):
            parse_readout(as_bytes(data), decimals=2)


def test_the_format_is_checked_first() -> None:
    """Another format's file is refused as such, whatever else it holds."""
    with pytest.raises(ReadoutFormat):
        parse_readout(json.dumps({"format": "other"}).encode(), decimals=2)


@pytest.mark.parametrize(
    ("key", "limit"), [("monthly", MAX_MONTHS), ("hourly", MAX_HOURS), ("events", MAX_EVENTS)]
)
def test_absurd_sizes_are_refused(key: str, limit: int) -> None:
    """One entry more than a meter keeps: refused before any entry is read."""
    data = readout_json("office-a.json")
    data[key] = [{}] * (limit + 1)
    with pytest.raises(ReadoutTooLarge):
        parse_readout(as_bytes(data), decimals=2)


def test_repeated_months_are_refused() -> None:
    """Two figures for one month: which would be right? Refused."""
    data = readout_json("office-a.json")
    data["monthly"].append(dict(data["monthly"][0]))
    with pytest.raises(BadReadout, match="repeats"):
        parse_readout(as_bytes(data), decimals=2)


def test_an_hour_given_in_another_offset_is_the_same_instant() -> None:
    """10:00+03:00 is 07:00 UTC; 10:30 is not the start of an hour."""
    data = readout_json("office-a.json")
    local = timezone(timedelta(hours=3))
    data["hourly"] = [
        {"hour": datetime(2026, 11, 1, 10, tzinfo=local).isoformat(), "volume_m3": "0.1"}
    ]
    assert parse_readout(as_bytes(data), decimals=2).hourly[0].hour == datetime(
        2026, 11, 1, 7, tzinfo=UTC
    )
    data["hourly"][0]["hour"] = "2026-11-01T10:30:00+03:00"
    with pytest.raises(BadReadout, match="start of an hour"):
        parse_readout(as_bytes(data), decimals=2)


@given(st.binary(max_size=200))
def test_any_bytes_are_a_readout_or_a_typed_refusal(content: bytes) -> None:
    """Garbage never escapes as anything but the readout's own errors."""
    with contextlib.suppress(BadReadout, ReadoutFormat, ReadoutTooLarge):
        parse_readout(content, decimals=2)


def test_the_csv_spelling_reads_as_the_json() -> None:
    """office-a.csv is office-a.json line by line: the same readout."""
    assert parse_readout(readout_bytes("office-a.csv"), decimals=2) == parse_readout(
        readout_bytes("office-a.json"), decimals=2
    )


@pytest.mark.parametrize(
    ("line", "match"),
    [("valve,open,,", "unknown row"), ("monthly,volume_m3,2026-12,14.7000", "volume_m3")],
)
def test_a_bad_csv_line_is_refused(line: str, match: str) -> None:
    """An unknown row or a bad value: the CSV file is refused like the JSON one."""
    content = readout_bytes("office-a.csv") + line.encode() + b"\n"
    with pytest.raises(BadReadout, match=match):
        parse_readout(content, decimals=2)


def test_the_ir_readouts_own_sample_reads() -> None:
    """The file the meter's IR readout writes (a copy of its sample): 14 months, 7 hours,
    20 events, its registers and settings as text."""
    r = parse_readout(readout_bytes("office-sample.json"), decimals=2)
    assert (len(r.monthly), len(r.hourly), len(r.events)) == (14, 7, 20)
    assert r.registers["recharged"] == "400.000"
    assert r.settings["billing_day"] == "1"


def test_an_event_logged_twice_at_one_instant_is_one_event() -> None:
    """The merge key is (time, code): a repeated entry is kept once, the first one."""
    data = readout_json("office-a.json")
    data["events"].append(dict(data["events"][0], detail="again"))
    events = parse_readout(as_bytes(data), decimals=2).events
    assert len(events) == 2
    assert events[0].detail == ""
