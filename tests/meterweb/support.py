"""Shared pieces of the meter page's tests: a settable clock, tokens for the demo meter and
the page as a real process."""

from __future__ import annotations

import subprocess
import sys
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from stsgas.meter.demo import demo_meter_json
from stsgas.sts import MeterConfig, credit_token
from tests.processes import answer, free_port, spawn, stop

with warnings.catch_warnings():
    # Starlette asks for the httpx2 fork; plain httpx still works for the test client.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

__all__ = ["T0", "Clock", "TestClient", "free_port", "start_meter_web", "token"]

T0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)


class Clock:
    """The app's clock, moved by the test."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def step(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def token(amount: str, minutes: int = 0) -> str:
    """A credit token for the demo meter, issued ``minutes`` after T0."""
    cfg = MeterConfig.from_json(demo_meter_json())
    return credit_token(cfg, amount, at=T0 + timedelta(minutes=minutes), rnd=2).digits


def start_meter_web(state: Path, *more: str) -> tuple[subprocess.Popen[str], int, httpx.Response]:
    """``stsgas meter web --state STATE`` as a real process on a free port: the process
    (the caller stops it), its port and its first answer to ``GET /api/meters``."""
    port = free_port()
    proc = spawn(
        [sys.executable, "-m", "stsgas", "meter", "web", "--state", str(state), *more,
         "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        first = answer(lambda: httpx.get(f"http://127.0.0.1:{port}/api/meters", timeout=2), proc)
    except BaseException:
        stop(proc)
        raise
    return proc, port, first
