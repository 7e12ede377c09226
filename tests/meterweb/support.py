"""Shared pieces of the meter page's tests: a settable clock and tokens for the demo meter."""

from __future__ import annotations

import socket
import warnings
from datetime import UTC, datetime, timedelta

from stsgas.meter.demo import demo_meter_json
from stsgas.sts import MeterConfig, credit_token

with warnings.catch_warnings():
    # Starlette asks for the httpx2 fork; plain httpx still works for the test client.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

__all__ = ["T0", "Clock", "TestClient", "free_port", "token"]

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


def free_port() -> int:
    """A TCP port nothing listens on now (for a server process the test starts)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
