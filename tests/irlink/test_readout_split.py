"""The splitters that let one serial line carry STX frames and 62056-21 messages."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stsgas.irlink.readout import split_from_meter, split_to_meter
from stsgas.irproto import encode_frame
from stsgas.meter.readout_codec import (
    ACK,
    NAK,
    SIGN_ON,
    answer_message,
    command_message,
    data_message,
)  # fmt: skip
from stsgas.meter.readout_session import IDENT

TO_METER = [
    encode_frame("query 01"),
    SIGN_ON,
    b"/?600727000000000009!\r\n",
    ACK + b"051\r\n",
    command_message("P", "1", "(0123456789abcdef)"),
    command_message("R", "1", "P.01()"),
    command_message("B", "0"),
    NAK,
]
FROM_METER = [
    IDENT,
    data_message(["0-0:96.1.0(1)", "7-0:3.0.0(1.000*m3)"]),
    answer_message(["P.02(2601)(00)(M)(1)(7-0:3.0.0)(m3)", "(1.000)"]),
    command_message("P", "0", "(7)"),
    ACK,
    NAK,
]


def _split_all(stream: bytes, split: object) -> list[bytes]:
    assert callable(split)
    out = []
    while stream:
        n = split(stream)
        assert n > 0, stream
        out.append(stream[:n])
        stream = stream[n:]
    return out


@given(st.lists(st.sampled_from(TO_METER), min_size=1, max_size=12))
def test_messages_to_the_meter_come_apart_whole(messages: list[bytes]) -> None:
    """Any run of frames and 62056-21 messages, back to back, splits into exactly them."""
    assert _split_all(b"".join(messages), split_to_meter) == messages


@given(st.lists(st.sampled_from(FROM_METER), min_size=1, max_size=12))
def test_messages_from_the_meter_come_apart_whole(messages: list[bytes]) -> None:
    """The reader's side: identification, blocks, password request, ACK/NAK."""
    assert _split_all(b"".join(messages), split_from_meter) == messages


@pytest.mark.parametrize("message", TO_METER[:-1])
def test_a_partial_message_waits(message: bytes) -> None:
    """Half a message is not a message yet (0: wait for the rest or the idle gap)."""
    assert split_to_meter(message[:-1]) == 0


def test_noise_and_wake_up_nuls_come_out_on_their_own() -> None:
    """Bytes before a start come out alone (the meter answers them as a bad frame);
    a run of NULs (a battery meter's wake-up) is one item the port ignores."""
    assert split_to_meter(b"xyz" + SIGN_ON) == 3
    assert split_to_meter(b"\x00\x00\x00" + SIGN_ON) == 3
    assert split_from_meter(b"junk" + IDENT) == 4


def test_reader_joins_an_answer_that_comes_in_pieces() -> None:
    """On a slow line a long answer arrives over several timeouts: the reader joins the
    pieces into one block instead of failing on the first."""
    from stsgas.irlink import LoopbackIrLink
    from stsgas.irlink.readout import OpticalReader

    ours, meter = LoopbackIrLink.pair()
    block = answer_message(["P.02(2601)(00)(M)(1)(7-0:3.0.0)(m3)"] + ["(1.000)"] * 50)
    for i in range(0, len(block), 100):
        meter.send(block[i : i + 100])
    reader = OpticalReader(ours, timeout=0.5)  # its R1 goes to the meter end, unread
    assert reader.read("P.02")[1:] == ["(1.000)"] * 50
