"""The readout's 62056-21 codec: Hypothesis round trips and the checks that refuse bad input."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stsgas.meter.readout import OBJECTS, Readout, ReadoutFormatError, object_value, parse_object
from stsgas.meter.readout_codec import (
    ReadoutCodecError,
    answer_message,
    bcc,
    command_message,
    data_message,
    data_set,
    decode_events,
    decode_hourly,
    decode_monthly,
    encode_events,
    encode_hourly,
    encode_monthly,
    escape,
    parse_block,
    parse_command,
    parse_data_sets,
    unescape,
)  # fmt: skip

EPOCH_HOUR = int(datetime(2000, 1, 1, tzinfo=UTC).timestamp()) // 3600
LAST_HOUR = int(datetime(2099, 12, 31, tzinfo=UTC).timestamp()) // 3600
volumes = st.integers(min_value=0, max_value=10**9).map(lambda litres: Decimal(litres) / 1000)
safe_text = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E, blacklist_characters="()*!/"),
    max_size=40,
)


@given(st.lists(st.tuples(st.integers(0, 2000), volumes), max_size=60))
def test_hourly_round_trip(steps: list[tuple[int, Decimal]]) -> None:
    """Any ascending hours (gaps or none) and litre volumes come back exactly."""
    hour = EPOCH_HOUR + 100_000
    records = []
    for gap, volume in steps:
        hour += gap + 1
        records.append((datetime.fromtimestamp(hour * 3600, UTC), volume))
    assert decode_hourly(encode_hourly(records)) == tuple(records)


@given(st.lists(st.tuples(st.integers(0, 30), volumes), max_size=130))
def test_monthly_round_trip(steps: list[tuple[int, Decimal]]) -> None:
    """Any ascending months 2000..2099 and volumes come back exactly, labels and all."""
    pos = 2000 * 12
    records: list[tuple[str, Decimal]] = []
    for gap, volume in steps:
        pos += gap + (1 if records else 0)
        if pos >= 2100 * 12:
            break
        records.append((f"{pos // 12:04d}-{pos % 12 + 1:02d}", volume))
    assert decode_monthly(encode_monthly(records)) == tuple(records)


codes = st.from_regex(r"[a-z][a-z0-9_]{0,30}", fullmatch=True)
seconds = st.integers(0, (LAST_HOUR - EPOCH_HOUR) * 3600)
entries = st.lists(st.tuples(seconds, codes, st.text(max_size=40)), max_size=200).map(sorted)


@given(entries)
def test_event_log_round_trip(log: list[tuple[int, str, str]]) -> None:
    """Any event log (times to the second, 2000..2099, any detail text) comes back exactly."""
    start = datetime(2000, 1, 1, tzinfo=UTC)
    records = [(start + timedelta(seconds=s), code, d) for s, code, d in log]
    assert decode_events(encode_events(records)) == tuple(records)


@given(
    st.lists(
        st.tuples(
            st.from_regex(r"[0-9A-Z.:\-]{1,16}", fullmatch=True),
            safe_text,
            st.sampled_from(["", "m3", "V", "s"]),
        ),
        min_size=1,
        max_size=5,
    )
)
def test_data_sets_and_blocks_round_trip(sets: list[tuple[str, str, str]]) -> None:
    """Data sets in a line, lines in a data or answer block: parsed back exactly."""
    line = "".join(data_set(a, v, u) for a, v, u in sets)
    assert parse_data_sets(line) == sets
    assert parse_block(data_message([line, line])) == [line, line]
    assert parse_block(answer_message([line])) == [line]


@given(st.sampled_from(["R", "P", "W", "B"]), st.sampled_from("0125"), st.none() | safe_text)
def test_command_round_trip(command: str, kind: str, data: str | None) -> None:
    """Command messages carry their letter, type and data through."""
    assert parse_command(command_message(command, kind, data)) == (command, kind, data)


@given(st.sampled_from(sorted(zoneinfo.available_timezones())))
def test_time_zone_names_travel_in_a_data_set(zone: str) -> None:
    """Every IANA zone name gets through a data set (which may not carry ``/``)."""
    (tz,) = (o for o in OBJECTS if o.name == "timezone")
    r = Readout("1", datetime(2026, 1, 1, tzinfo=UTC), "volume", (), (("timezone", zone),),
                (), (), ())  # fmt: skip
    found = object_value(tz, r)
    assert found is not None
    ((_, value, _),) = parse_data_sets(data_set(tz.obis, *found))
    assert parse_object(tz, value) == zone


@given(st.text(max_size=60))
def test_escaped_text_round_trips_through_a_data_set(text: str) -> None:
    """Any text (reserved characters, %, non-ASCII) escapes into a legal value and back."""
    ((_, value, _),) = parse_data_sets(data_set("0-0:96.11.1", escape(text)))
    assert unescape(value) == text


def test_a_flipped_bit_fails_the_check_character() -> None:
    """One changed character in a block or a command is caught by the BCC."""
    block = bytearray(answer_message(["7-0:3.0.0(1.000*m3)"]))
    block[5] ^= 0x01
    with pytest.raises(ReadoutCodecError, match="check"):
        parse_block(bytes(block))
    cmd = bytearray(command_message("R", "1", "P.01()"))
    cmd[4] ^= 0x02
    with pytest.raises(ReadoutCodecError, match="check"):
        parse_command(bytes(cmd))
    assert bcc(b"\x7f\x7f") == b"\x00"


@pytest.mark.parametrize("value", ["a(b", "x)y", "1*2", "end!", "a/b", "ü"])
def test_reserved_characters_are_refused(value: str) -> None:
    """A value that would break the message framing is refused, not sent."""
    with pytest.raises(ReadoutCodecError):
        data_set("7-0:3.0.0", value)


MALFORMED = [
    (decode_hourly, ["(1.000)"]),
    (decode_hourly, ["P.01(1601010900)", "(x)"]),
    (decode_hourly, ["P.01(16010109)", "(1)"]),
    (decode_monthly, ["P.02(1613)", "(1)"]),
    (decode_events, ["P.98(1)", "(1)"]),
    (decode_events, ["P.98(1)", "(xx0101000000)(a)()"]),
    (decode_events, ["P.98(1)", "(260101000000)(a)(%ZZ)"]),
]


@pytest.mark.parametrize(("decode", "lines"), MALFORMED)
def test_malformed_profiles_raise(decode: Callable[[list[str]], object], lines: list[str]) -> None:
    """A value before its header, a bad number, stamp or month, an unpaired entry."""
    with pytest.raises(ReadoutCodecError):
        decode(lines)


def test_readout_json_rejects_other_documents() -> None:
    """Not a readout: a typed error naming why."""
    with pytest.raises(ReadoutFormatError, match="format"):
        Readout.from_json({"format": "other/1"})
    with pytest.raises(ReadoutFormatError):
        Readout.from_json({"format": "stsgas-readout/1"})
