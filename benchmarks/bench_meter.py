"""Meter simulation speed: 10 years of one household meter, with and without NVM writes.

Run: ``.venv/bin/python -m benchmarks meter`` (or ``python -m benchmarks.bench_meter``).
Figures go to docs/benchmarks.md by hand; nothing here asserts a number.

* ``10 y hourly, monthly``: hourly consumption events and one token a month
  (vended with ``stsgas.sts.credit_token`` for the meter's key), state kept
  in memory (no NVM writes). The goal is under 2 s on one core.
* meter-years/s for: plain memory state; the encrypted A/B record stores on
  an in-memory page device with the hourly trend in its own region (every NVM
  write sealed with AES-128-GCM), and the same with the trend in the one store
  (the layout before issue 15); and the one store on a file (fsync'd writes; a
  shorter run, it is disk bound).
* ``--cpu``: process CPU seconds instead of wall time (one run each), so two
  checkouts can be compared on a machine others are loading; ``--years N``
  sets the simulated years; ``--case TEXT`` runs only the cases whose name
  contains TEXT (e.g. ``--case "90-day hourly records, encrypted"``), so a profiler or
  an instruction counter sees one case.
* token entry rate: 2,000 real credit tokens (two minutes apart) typed into one
  meter through ``Meter.enter_token``, with memory state and with the
  encrypted store on an in-memory page device (one sealed commit a token).
"""

from __future__ import annotations

import cProfile
import dataclasses
import functools
import os
import pstats
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from stsgas.meter import Meter, StateStore
from stsgas.meter.demo import DEMO_METER, nvm_key
from stsgas.meter.nvm import MemoryNvm
from stsgas.meter.nvm_store import EncryptedRecordStore
from stsgas.sim import driver
from stsgas.sim.household import SimConfig, SimResult, simulate
from stsgas.sim.recharge import MonthlyRecharge
from stsgas.sts import credit_token

MONTHLY = SimConfig(
    years=10, seed=1, hourly=True, policies=(MonthlyRecharge(amount=Decimal(65)),), battery=None
)
#: the same meter without hourly records (hourly_record_days = 0)
NO_HOURLY = dataclasses.replace(
    MONTHLY, meter={**driver.demo_meter_json(), "hourly_record_days": 0}
)


def _pin() -> str:
    try:
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        return f"pinned to CPU {cpu}"
    except (AttributeError, OSError):
        return "not pinned"


#: the clock the figures use: wall (perf_counter) or, with --cpu, this process's CPU time
CLOCK: Callable[[], float] = time.perf_counter


def _one_store(index: int = 0) -> StateStore:
    """The encrypted store with the trend in the one record set (before issue 15)."""
    return EncryptedRecordStore(MemoryNvm(), nvm_key(DEMO_METER))


def _time(
    cfg: SimConfig, store: Callable[[], StateStore], repeat: int = 3
) -> tuple[float, SimResult]:
    best = float("inf")
    result = None
    for _ in range(repeat):
        fresh = store()
        t0 = CLOCK()
        result = simulate(cfg, store=fresh)
        best = min(best, CLOCK() - t0)
    assert result is not None
    return best, result


#: a meter that takes every token: no recharge limit
TOKEN_METER = {**driver.demo_meter_json(), "recharge_limit": None}
TOKENS = 2000


def _token_rate(store: Callable[[], StateStore], repeat: int = 3) -> float:
    """Best tokens/s entering TOKENS credit tokens two minutes apart into a fresh meter."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    meter = driver.make_meter(TOKEN_METER, now=start, store=store())
    digits = [
        credit_token(meter.settings.sts, 1, at=start + timedelta(minutes=2 * i + 2)).digits
        for i in range(TOKENS)
    ]
    best = float("inf")
    for _ in range(repeat):
        meter = Meter(meter.settings, store=store(), now=start)
        t0 = CLOCK()
        for i, d in enumerate(digits):
            out = meter.enter_token(d, start + timedelta(minutes=2 * i + 2, seconds=5))
            assert out.accepted, out.code
        best = min(best, CLOCK() - t0)
    return TOKENS / best


def main(argv: list[str]) -> int:
    """Print the figures; ``--profile`` adds the top functions by cumulative time."""
    global CLOCK
    print(_pin())
    short = "--quick" in argv
    cpu = "--cpu" in argv
    if cpu:
        CLOCK = time.process_time
        print("CPU seconds of this process (process_time), one run each")
    years = int(argv[argv.index("--years") + 1]) if "--years" in argv else (1 if short else 10)
    only = argv[argv.index("--case") + 1] if "--case" in argv else ""
    cases = [
        ("no hourly records, memory state", NO_HOURLY, driver.memory_state_store),
        ("no hourly records, encrypted NVM (mem)", NO_HOURLY, driver.memory_nvm_store),
        ("90-day hourly records, memory state", MONTHLY, driver.memory_state_store),
        ("90-day hourly records, encrypted NVM", MONTHLY, driver.memory_nvm_store),
        ("90-day hourly, NVM trend in one store", MONTHLY, _one_store),
    ]
    repeat = 1 if cpu or years == 1 else 3
    for name, cfg, factory in cases:
        if only not in name:
            continue
        cfg = dataclasses.replace(cfg, years=years)
        wall, _ = _time(cfg, functools.partial(factory, 0), repeat)
        print(
            f"{name:<40} {cfg.years:2d} y hourly, monthly tokens: {wall:7.3f} s"
            f"  = {cfg.years / wall:7.2f} meter-years/s",
            flush=True,
        )
    for name, factory in (
        ("token entry, memory state", driver.memory_state_store),
        ("token entry, encrypted NVM (mem)", driver.memory_nvm_store),
    ):
        if only not in name:
            continue
        rate = _token_rate(functools.partial(factory, 0), 1 if short or cpu else 3)
        print(f"{name:<40} {TOKENS} tokens: {rate:9.0f} tokens/s", flush=True)
    if cpu or only:
        return 0  # the file case is disk bound: its CPU time says little
    with tempfile.TemporaryDirectory() as tmp:
        one_year = dataclasses.replace(NO_HOURLY, years=1)
        path = Path(tmp) / "meter.nvm"
        wall, _ = _time(one_year, lambda: driver.file_store(path, fresh=True), 1)
        print(
            f"{'no hourly records, encrypted NVM (file)':<40}  1 y hourly, monthly tokens: "
            f"{wall:7.3f} s"
            f"  = {1 / wall:7.2f} meter-years/s"
        )
    if "--profile" in argv:
        prof = cProfile.Profile()
        prof.runcall(
            simulate, dataclasses.replace(MONTHLY, years=1), store=driver.memory_state_store(0)
        )
        pstats.Stats(prof).sort_stats("tottime").print_stats(12)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
