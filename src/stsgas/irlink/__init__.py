"""stsgas.irlink — IR links for the meter's optical port: loopback, pty and serial.

The meter core stays sans-IO (``meter.receive_ir(data, now)`` returns the
reply); this package moves those bytes over real ports and reads the clock.
"""

from stsgas.irlink.links import (
    FdIrLink,
    IrLink,
    IrLinkClosed,
    LoopbackIrLink,
    SerialIrLink,
    Splitter,
)
from stsgas.irlink.pty import PtyPair, open_pty_pair

__all__ = [
    "FdIrLink",
    "IrLink",
    "IrLinkClosed",
    "LoopbackIrLink",
    "PtyPair",
    "SerialIrLink",
    "Splitter",
    "open_pty_pair",
]
