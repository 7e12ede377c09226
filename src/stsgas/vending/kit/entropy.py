"""Random journal ids and token nibbles from a buffer of the OS's randomness.

A sale needs 16 random bytes for its journal's id and, for a volume token, a
4-bit random number (the token's RND field). Asked of the OS each time, that
is a system call per sale, and a system call is where the sale thread gives up
the GIL: while the token-SMS sender's threads were busy (a backlog at start-up,
since fixed in ``delivery.hook``), getting it back cost 15-40 µs a call, and
about 1 µs otherwise. So bytes are read from the OS 4 KiB at a time and handed
out in order, under a lock (the SQLite route sells from worker threads), and
a forked worker starts with an empty buffer of its own, never its parent's.
"""

from __future__ import annotations

import os
import threading
from typing import Final

__all__ = ["journal_id", "nibble", "random_bytes"]

#: bytes read from the OS at a time (a journal id takes 16: 256 sales a read)
CHUNK: Final = 4096


class _Buffer:
    def __init__(self) -> None:
        self._reset()
        os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        # new at a fork too: the child's copy may be held by a thread that is not there
        self._lock = threading.Lock()
        self._data = b""
        self._at = 0

    def take(self, n: int) -> bytes:
        if not 0 < n <= CHUNK:
            raise ValueError(f"between 1 and {CHUNK} bytes, not {n}")
        with self._lock:
            if self._at + n > len(self._data):
                self._data = os.urandom(CHUNK)
                self._at = 0
            out = self._data[self._at : self._at + n]
            self._at += n
        return out


_BUFFER: Final = _Buffer()


def random_bytes(n: int) -> bytes:
    """``n`` (at most :data:`CHUNK`) bytes from the OS's randomness, each handed out once."""
    return _BUFFER.take(n)


def journal_id() -> str:
    """A new journal's id: a random (version 4, RFC 4122 variant) UUID, as text."""
    raw = bytearray(random_bytes(16))
    raw[6] = (raw[6] & 0x0F) | 0x40  # version 4
    raw[8] = (raw[8] & 0x3F) | 0x80  # the RFC 4122 variant
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def nibble() -> int:
    """A random number from 0 to 15 (a token's 4-bit RND field)."""
    return random_bytes(1)[0] & 0x0F
