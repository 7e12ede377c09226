"""NVM commit throughput: EncryptedRecordStore on MemoryNvm and FileNvm, both ciphers.

Run: ``.venv/bin/python -m benchmarks nvm``. A commit rewrites the whole record set
(one sealed blob into the idle A/B slot, then the counter page).
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from stsgas.meter.adapters.file_nvm import FileNvm
from stsgas.meter.nvm import MemoryNvm, Nvm
from stsgas.meter.nvm_store import CipherName, EncryptedRecordStore

KEY = bytes(range(16))
CIPHERS: tuple[CipherName, ...] = ("aes128", "3des")


def _record_set(size: int) -> dict[str, bytes]:
    """A meter-like set: credit registers, TID memory (50 x 3 bytes), then padding records."""
    base = {"credit": b"\0" * 16, "tids": b"\1" * 150, "tariff": b"\2" * 40}
    rest = size - sum(len(v) for v in base.values())
    if rest > 0:
        base["records"] = b"\3" * rest
    return base


def _rate(fn: Callable[[], None], seconds: float) -> float:
    n, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(50):
            fn()
        n += 50
    return n / elapsed


def _measure(nvm: Nvm, cipher: CipherName, size: int, seconds: float) -> tuple[float, float]:
    store = EncryptedRecordStore(nvm, KEY, cipher)
    records = _record_set(size)
    store.commit(records)
    counter = [0]

    def commit() -> None:
        counter[0] += 1
        store.commit({"credit": counter[0].to_bytes(16, "big")})

    def load() -> None:
        store.load()

    return _rate(commit, seconds), _rate(load, seconds / 2)


def main(argv: list[str]) -> int:
    """Print commits/s and loads/s for each device, cipher and set size."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    head = ("device", "cipher", "set", "commits/s", "µs/commit", "loads/s")
    print("{:<10} {:<7} {:>6} {:>11} {:>10} {:>9}".format(*head))
    with tempfile.TemporaryDirectory() as tmp:
        for size in (300, 4000):
            for cipher in CIPHERS:
                for name in ("memory", "file"):
                    nvm: Nvm
                    if name == "memory":
                        nvm = MemoryNvm()
                    else:
                        nvm = FileNvm(Path(tmp) / f"{cipher}-{size}.nvm")
                    secs = 1.0 if name == "memory" else 2.0
                    commits, loads = _measure(nvm, cipher, size, secs)
                    print(
                        f"{name:<10} {cipher:<7} {size:>5}B {commits:>11,.0f} "
                        f"{1e6 / commits:>10.1f} {loads:>9,.0f}"
                    )
                    if isinstance(nvm, FileNvm):
                        nvm.close()
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
