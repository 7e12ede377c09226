"""The IR pad: send one command frame to a meter's IR port and read its reply.

Frames are the meter's own (``stsgas.irproto``: ``STX payload ETX CRC``);
this module adds the stream splitter that finds a frame's end on a serial
line, and a small client for the commands the meter answers.
"""

from __future__ import annotations

from datetime import UTC, datetime

from stsgas.irlink.links import IrLink
from stsgas.irproto import ETX, STX, FrameError, decode_frame, encode_frame, signed

__all__ = ["IrPad", "IrPadError", "IrTimeout", "split_frame"]

_CRC_HEX = 4


def split_frame(buffer: bytes) -> int:
    """Length of the first complete item at the start of ``buffer``, or 0.

    A frame runs from STX to ETX plus its 4 CRC digits. Bytes before an STX
    are returned on their own (noise or a garbage frame), so the meter can
    answer them with an error and the next good frame still gets through.
    """
    start = buffer.find(STX)
    if start > 0:
        return start
    if start < 0:
        return 0  # no frame start yet: the idle gap decides
    end = buffer.find(ETX, 1)
    if end < 0 or len(buffer) < end + 1 + _CRC_HEX:
        return 0
    return end + 1 + _CRC_HEX


class IrPadError(Exception):
    """The IR exchange failed: no reply, or a reply that is not a valid frame."""


class IrTimeout(IrPadError):
    """The meter did not answer in time."""


class IrPad:
    """A client for a meter's IR port over any :class:`IrLink`."""

    def __init__(self, link: IrLink, *, timeout: float = 2.0) -> None:
        self.link = link
        self.timeout = timeout

    def request(self, payload: str) -> str:
        """Send ``payload`` framed; return the reply's payload (``ok …`` or ``err …``).

        Raises:
            IrTimeout: no reply within the timeout.
            IrPadError: the reply is not a valid frame.
        """
        self.link.send(encode_frame(payload))
        return self._reply()

    def send_raw(self, data: bytes) -> str:
        """Send bytes as they are (a test of the meter's frame checks) and read the reply."""
        self.link.send(data)
        return self._reply()

    def _reply(self) -> str:
        frame = self.link.receive(self.timeout)
        if frame is None:
            raise IrTimeout(f"no reply within {self.timeout:g} s")
        try:
            return decode_frame(frame)
        except FrameError as exc:
            raise IrPadError(f"bad reply frame ({exc}): {frame!r}") from None

    def token(self, digits: str) -> str:
        """Enter a 20-digit token over IR."""
        return self.request(f"token {digits}")

    def query(self, code: str) -> str:
        """Ask a 2-digit query code."""
        return self.request(f"query {code}")

    def next_seq(self) -> int:
        """The counter the next authenticated command must carry (last accepted + 1)."""
        reply = self.request("seq")
        words = reply.split(" ")
        if len(words) != 3 or words[:2] != ["ok", "seq"] or not words[2].isdigit():
            raise IrPadError(f"unexpected reply to seq: {reply!r}")
        return int(words[2]) + 1

    def signed(self, key: bytes, command: str, *args: str) -> str:
        """Send ``command`` with the next counter, ``args`` and the MAC under ``key``."""
        return self.request(signed(key, command, self.next_seq(), *args))

    def set_clock(self, at: datetime, key: bytes) -> str:
        """Set the meter's RTC; authenticated with the meter's decoder ``key``."""
        return self.signed(key, "clock", at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))

    def load_tariff(self, steps: str, at: datetime, key: bytes) -> str:
        """Load a step tariff (``10:2.50,20:3.00,-:3.50``) that takes effect at ``at``."""
        stamp = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return self.signed(key, "tariff", stamp, steps)

    def clear_tamper(self, key: bytes) -> str:
        """Clear a tamper lock; authenticated with the meter's decoder ``key``."""
        return self.signed(key, "clear_tamper")
