"""An IR pad on one end of a real pty, the virtual meter on the other."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from stsgas.irlink import SerialIrLink, open_pty_pair
from stsgas.irlink.client import IrPad, IrTimeout, split_frame
from stsgas.sts import credit_token
from tests.irlink.served_meter import T0, Served, serve_demo_meter


@pytest.fixture
def served() -> Iterator[Served]:
    """The demo meter served on a pty."""
    with serve_demo_meter() as s:
        yield s


@pytest.fixture
def pad(served: Served) -> Iterator[IrPad]:
    """An IR pad client on the pty's slave path."""
    link = SerialIrLink(served.path, split=split_frame)
    try:
        yield IrPad(link, timeout=3.0)
    finally:
        link.close()


def test_token_accepted_over_ir(served: Served, pad: IrPad) -> None:
    """A real token for the meter's key, sent by IR, adds its credit; sent again it is used."""
    issued = credit_token(served.config, "12.5", at=T0 + timedelta(minutes=1), rnd=3)
    assert pad.token(issued.digits) == "ok accept"
    assert served.meter.credit == issued.amount
    assert pad.token(issued.digits) == "err used"


def test_query_answered_over_ir(served: Served, pad: IrPad) -> None:
    """A 2-digit query is answered with the value the LCD would show; an unknown one errs."""
    reply = pad.query("01")
    assert reply.startswith("ok ")
    assert pad.query("ZZ") == "err query"


def test_garbage_frame_gets_an_error(served: Served, pad: IrPad) -> None:
    """Bytes that are not a frame (or fail the CRC) are answered with an error frame."""
    assert pad.send_raw(b"\x00\x7fgarbage").startswith("err frame")
    good = b"\x02query 01\x030000"  # right shape, wrong CRC
    assert pad.send_raw(good) == "err frame checksum"
    assert pad.query("01").startswith("ok ")  # the port still works afterwards


def test_set_clock_needs_the_meter_key(served: Served, pad: IrPad) -> None:
    """The clock command is accepted with the meter's key and refused with another."""
    key = served.config.key().value
    at = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    assert pad.set_clock(at, bytes(len(key))) == "err auth"
    assert pad.set_clock(at, key) == "ok clock"
    assert tuple(k for k, _ in served.meter.events() if k == "clock_set") == ("clock_set",)


def test_no_meter_on_the_line_times_out() -> None:
    """With nothing serving the pty, the pad gives up after its timeout."""
    with open_pty_pair() as pty:
        link = SerialIrLink(pty.path, split=split_frame)
        try:
            t0 = time.monotonic()
            with pytest.raises(IrTimeout):
                IrPad(link, timeout=0.3).query("01")
            assert time.monotonic() - t0 < 2.0
        finally:
            link.close()
