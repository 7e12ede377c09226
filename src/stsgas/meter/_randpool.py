"""Fresh random bytes for nonces, read from the OS a few KB at a time.

Why: a sealed commit needs a 12-byte nonce, and one ``os.urandom`` system call
per commit costs more than the commit's AES-GCM. Reading 4 KB at once serves
some 340 nonces per call. The bytes are the OS generator's, each handed out
once: a lock keeps threads from sharing a slice, and a forked child drops the
parent's buffer (it would otherwise repeat the parent's next nonces).
"""

from __future__ import annotations

import os
import threading
from typing import Final

__all__ = ["urandom"]

_CHUNK: Final = 4096


class _Pool:
    __slots__ = ("buf", "lock", "pos")

    def __init__(self) -> None:
        self.buf = b""
        self.pos = 0
        self.lock = threading.Lock()

    def take(self, n: int) -> bytes:
        with self.lock:
            pos, end = self.pos, self.pos + n
            if end > len(self.buf):
                self.buf = os.urandom(max(_CHUNK, n))
                pos, end = 0, n
            self.pos = end
            return self.buf[pos:end]

    def drop(self) -> None:
        self.buf, self.pos, self.lock = b"", 0, threading.Lock()


_POOL = _Pool()
os.register_at_fork(after_in_child=_POOL.drop)


def urandom(n: int) -> bytes:
    """``n`` bytes from the OS generator (as ``os.urandom``), none ever handed out twice."""
    return _POOL.take(n)
