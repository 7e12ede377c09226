"""A pseudo-terminal pair: the meter on the master end, an IR pad on the slave path.

Why a pty: it is a real serial device to pyserial (termios, blocking reads,
baud settings), so the IR pad client is tested on the same code path it uses
with a USB IR dongle, and a person can point any serial tool at the path.
"""

from __future__ import annotations

import contextlib
import os
import tty
from dataclasses import dataclass

from stsgas.irlink.links import FdIrLink, Splitter

__all__ = ["PtyPair", "open_pty_pair"]


@dataclass(slots=True, kw_only=True)
class PtyPair:
    """An open pty: ``master`` fd for the meter side, ``path`` of the slave for the IR pad."""

    master: int
    slave: int
    path: str

    def master_link(self, *, split: Splitter | None = None, idle: float = 0.05) -> FdIrLink:
        """An IR link on the master end (the meter's IR window)."""
        return FdIrLink(self.master, split=split, idle=idle)

    def close(self) -> None:
        """Close both ends."""
        for fd in (self.master, self.slave):
            with contextlib.suppress(OSError):
                os.close(fd)

    def __enter__(self) -> PtyPair:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_pty_pair() -> PtyPair:
    """Open a pty in raw mode (no echo, no line editing: bytes pass unchanged).

    The slave descriptor stays open here, so the master never reads EIO when an
    IR pad client disconnects; clients come and go on ``path``.
    """
    master, slave = os.openpty()
    tty.setraw(slave)
    return PtyPair(master=master, slave=slave, path=os.ttyname(slave))
