"""Token throughput on one core: one at a time, bulk, and through ``stsgas token encode``.

Run: ``.venv/bin/python -m benchmarks sts``. The process pins itself to one CPU.
Rates are per CPU-second (``time.process_time``, and the child's user+sys
time for the subprocess), so other jobs on a shared machine do not skew
them; the CLI's wall-clock rate is printed too.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np

from benchmarks.gen_jsonl import meters, write
from stsgas.sts import CreditToken, MeterConfig, credit_token, encode
from stsgas.sts.bulk import KeyIndex, encode_credit_bulk

SETS = [("STA+DKGA02", "07", "02"), ("DEA+DKGA02", "09", "02"), ("MISTY1+DKGA04", "11", "04")]


def _rate(n: int, seconds: float) -> str:
    return f"{n / seconds:>12,.0f}/s"


def one_at_a_time(ea: str, dkga: str, n: int = 30_000) -> tuple[float, float]:
    """(credit_token rate, encode rate) for one meter with its key cached."""
    meter = MeterConfig.from_json(meters(1, ea, dkga, 2014)[0])
    key = meter.key()
    start = datetime(2026, 3, 1, tzinfo=UTC)
    times = [start + timedelta(minutes=i) for i in range(n)]
    amount = Decimal("12.5")
    t0 = time.process_time()
    for at in times:
        credit_token(meter, amount, at=at, rnd=5)
    recipe = n / (time.process_time() - t0)
    toks = [CreditToken(tid=i, units=125, rnd=5) for i in range(n)]
    t0 = time.process_time()
    for tok in toks:
        encode(tok, key)
    return recipe, n / (time.process_time() - t0)


def bulk(ea: str, dkga: str, n: int = 200_000, n_meters: int = 1000) -> float:
    """Bulk rate over ``n_meters`` meters, keys derived once per meter (included)."""
    cfgs = [MeterConfig.from_json(m) for m in meters(n_meters, ea, dkga, 2014)]
    rng = np.random.default_rng(1)
    tids = rng.integers(0, 1 << 24, n)
    units = rng.integers(1, 5000, n)
    index = np.arange(n) % n_meters
    t0 = time.process_time()
    keys = KeyIndex(keys=[c.key() for c in cfgs], index=index)
    encode_credit_bulk(keys, tids, units, 5)
    return n / (time.process_time() - t0)


def jsonl(ea: str, dkga: str, n: int = 200_000, n_meters: int = 1000) -> tuple[float, float]:
    """(lines per CPU-second, lines per wall second) through ``stsgas token encode``."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "in.jsonl"
        write(path, n, n_meters, ea=ea, dkga=dkga)
        cmd = [sys.executable, "-m", "stsgas", "token", "encode", "--input", str(path)]
        if _taskset():
            cmd = ["taskset", "-c", "0", *cmd]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, check=False)
        elapsed = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr.decode()[-500:])
        assert proc.stdout.count(b"\n") == n
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return n / cpu, n / elapsed


def _taskset() -> bool:
    return subprocess.run(["which", "taskset"], capture_output=True, check=False).returncode == 0


def main(argv: list[str]) -> int:
    """Print the table of figures."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {0})
    head = ["credit_token", "encode", "bulk", "token encode", "(wall)"]
    print(f"{'set':<15}" + "".join(f"{h:>16}" for h in head))
    for name, ea, dkga in SETS:
        recipe, enc = one_at_a_time(ea, dkga)
        b = bulk(ea, dkga)
        j, wall = jsonl(ea, dkga) if "--no-cli" not in argv else (float("nan"), float("nan"))
        print(f"{name:<15}" + "".join(f"{v:>14,.0f}/s" for v in (recipe, enc, b, j, wall)))
    print("goals: 100,000/s one at a time, 1,000,000/s bulk, 200,000/s token encode (one core)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
