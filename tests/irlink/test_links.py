"""The IR links move whole frames: in memory, and over a real pseudo-terminal."""

from __future__ import annotations

import time

import pytest

from stsgas.irlink import IrLinkClosed, LoopbackIrLink, SerialIrLink, open_pty_pair


def _lines(buffer: bytes) -> int:
    end = buffer.find(b"\n")
    return end + 1 if end >= 0 else 0


def test_loopback_pair_keeps_frame_boundaries() -> None:
    """Two frames sent on one end arrive as two frames, in order, on the other."""
    a, b = LoopbackIrLink.pair()
    a.send(b"one")
    a.send(b"two")
    assert b.receive(1.0) == b"one"
    assert b.receive(1.0) == b"two"
    assert b.receive(0.01) is None


def test_loopback_close_is_seen_by_the_peer() -> None:
    """Closing one end makes the other end's receive raise IrLinkClosed."""
    a, b = LoopbackIrLink.pair()
    a.close()
    with pytest.raises(IrLinkClosed):
        b.receive(1.0)
    with pytest.raises(IrLinkClosed):
        a.send(b"x")


def test_pty_frames_split_by_the_format() -> None:
    """Over a pty, a format splitter separates two frames written back to back."""
    with open_pty_pair() as pty:
        meter_side = pty.master_link(split=_lines)
        pad = SerialIrLink(pty.path, split=_lines)
        try:
            pad.send(b"first\nsecond\n")
            assert meter_side.receive(2.0) == b"first\n"
            assert meter_side.receive(2.0) == b"second\n"
            meter_side.send(b"reply\n")
            assert pad.receive(2.0) == b"reply\n"
        finally:
            pad.close()


def test_pty_unterminated_frame_ends_on_a_quiet_line() -> None:
    """Bytes with no frame end are delivered once the line has been idle."""
    with open_pty_pair() as pty:
        meter_side = pty.master_link(split=_lines, idle=0.05)
        pad = SerialIrLink(pty.path, split=_lines)
        try:
            pad.send(b"\x00garbage")
            assert meter_side.receive(2.0) == b"\x00garbage"
        finally:
            pad.close()


def test_pty_receive_times_out() -> None:
    """With nothing sent, receive returns None after about the timeout."""
    with open_pty_pair() as pty:
        pad = SerialIrLink(pty.path)
        try:
            t0 = time.monotonic()
            assert pad.receive(0.2) is None
            assert 0.15 <= time.monotonic() - t0 < 2.0
        finally:
            pad.close()
