"""Table-level tests: valve table, lockout schedule, tariff billing, IR frames, query codes."""

from __future__ import annotations

from decimal import Decimal

import pytest

from stsgas.irproto import FrameError, decode_frame, encode_frame
from stsgas.meter import _state as s
from stsgas.meter.query import CODES
from stsgas.meter.tariff import Tariff
from stsgas.sts.errors import Rejection


def test_every_valve_pair_is_defined() -> None:
    """Each (state, input) pair has a row; only the open key opens."""
    for state in s.ValveState:
        for inp in s.ValveInput:
            new, reason = s.valve_step(state, inp)
            assert (new is s.ValveState.OPEN) == (inp is s.ValveInput.OPEN_KEY)
            assert (reason is None) == (new is s.ValveState.OPEN)


def test_lockout_schedule_clou() -> None:
    """3 free tries, then 10 s doubling to a 1,280 s cap."""
    assert [s.lockout_seconds(n) for n in range(1, 12)] == [
        0, 0, 10, 20, 40, 80, 160, 320, 640, 1280, 1280,
    ]  # fmt: skip


def test_rejection_codes_carry_iec_status() -> None:
    """Our codes map to the A2 status numbers, and each has LCD text."""
    want = {"crc": 13, "used": 10, "old": 9, "expired": 11, "type": 8, "format": 6,
            "range": 7, "limit": 4, "lockout": 15}  # fmt: skip
    assert {k: Rejection(k).status for k in want} == want
    assert set(s.REJECT_TEXT) == set(Rejection)


def test_step_crossing_is_split() -> None:
    """12 m3 from 0 on a 10 m3 step: 10 at 2.50 + 2 at 3.10 = 31.20 exactly."""
    t = Tariff.from_json([{"up_to_m3": "10", "price": "2.50"}, {"up_to_m3": None, "price": "3.10"}])
    assert Decimal(t.cost_milli(0, 12_000)) / 1000 / 100_000 == Decimal("31.2")


@pytest.mark.parametrize("bad", [[], [{"up_to_m3": "5", "price": "1"}],
                                 [{"up_to_m3": None, "price": "1"}] * 2])  # fmt: skip
def test_bad_tariff_refused(bad: list[dict[str, object]]) -> None:
    """Empty, bounded-last or two open-ended steps are refused."""
    with pytest.raises(ValueError, match="tariff"):
        Tariff.from_json(bad)


def test_ir_frame_roundtrip_and_checksum() -> None:
    """A frame decodes to its payload; one flipped byte fails the checksum."""
    frame = encode_frame("query 01")
    assert decode_frame(frame) == "query 01"
    bad = frame[:3] + b"X" + frame[4:]
    with pytest.raises(FrameError):
        decode_frame(bad)


def test_at_least_20_query_codes() -> None:
    """The sheet asks for >= 20 query codes, each 2 digits."""
    assert len(CODES) >= 20
    assert all(len(c) == 2 and c.isdigit() for c in CODES)
