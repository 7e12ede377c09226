"""Meter simulation speed: 10 years of one household meter, with and without NVM writes.

Run: ``.venv/bin/python -m benchmarks meter`` (or ``python -m benchmarks.bench_meter``).
Figures go to docs/benchmarks.md by hand; nothing here asserts a number.

* ``10 y hourly, monthly``: hourly consumption events and one token a month
  (vended with ``stsgas.sts.credit_token`` for the meter's key), state kept
  in memory (no NVM writes). The goal is under 2 s on one core.
* meter-years/s for: plain memory state; the encrypted A/B record store on
  an in-memory page device (every NVM write sealed with AES-128-GCM); and the
  same store on a file (fsync'd writes; a shorter run, it is disk bound).
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


def _time(
    cfg: SimConfig, store: Callable[[], StateStore], repeat: int = 3
) -> tuple[float, SimResult]:
    best = float("inf")
    result = None
    for _ in range(repeat):
        fresh = store()
        t0 = time.perf_counter()
        result = simulate(cfg, store=fresh)
        best = min(best, time.perf_counter() - t0)
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
        t0 = time.perf_counter()
        for i, d in enumerate(digits):
            out = meter.enter_token(d, start + timedelta(minutes=2 * i + 2, seconds=5))
            assert out.accepted, out.code
        best = min(best, time.perf_counter() - t0)
    return TOKENS / best


def main(argv: list[str]) -> int:
    """Print the figures; ``--profile`` adds the top functions by cumulative time."""
    print(_pin())
    short = "--quick" in argv
    cases = [
        ("no hourly records, memory state", NO_HOURLY, driver.memory_state_store),
        ("no hourly records, encrypted NVM (mem)", NO_HOURLY, driver.memory_nvm_store),
        ("90-day hourly records, memory state", MONTHLY, driver.memory_state_store),
        ("90-day hourly records, encrypted NVM", MONTHLY, driver.memory_nvm_store),
    ]
    for name, cfg, factory in cases:
        if short:
            cfg = dataclasses.replace(cfg, years=1)
        wall, _ = _time(cfg, functools.partial(factory, 0), 1 if cfg.years == 1 else 3)
        print(
            f"{name:<40} {cfg.years:2d} y hourly, monthly tokens: {wall:7.3f} s"
            f"  = {cfg.years / wall:7.2f} meter-years/s",
            flush=True,
        )
    for name, factory in (
        ("token entry, memory state", driver.memory_state_store),
        ("token entry, encrypted NVM (mem)", driver.memory_nvm_store),
    ):
        rate = _token_rate(functools.partial(factory, 0), 1 if short else 3)
        print(f"{name:<40} {TOKENS} tokens: {rate:9.0f} tokens/s", flush=True)
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
