"""Shared test meter: its configuration, a builder and a stepping clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from stsgas.meter import MemoryStateStore, Meter

T0 = datetime(2026, 1, 1, tzinfo=UTC)
METER: dict[str, Any] = {
    "pan": "600727000000000009", "key_type": 2, "sgc": "123456", "ti": "01", "krn": 1,
    "ken": 255, "base_date": 2014, "ea": "07", "dkga": "02", "vending_key": "abababababababab",
    "mode": "volume", "overdraft": "2", "recharge_limit": "500", "low_credit_alarm": "5",
    "valve_clean_days": 0,
}  # fmt: skip


def make(store: MemoryStateStore | None = None, **over: Any) -> Meter:
    """A commissioned test meter at T0."""
    return Meter.from_json({**METER, **over}, store=store or MemoryStateStore(), now=T0)


class StepClock:
    """A virtual clock: each reading is one second after the last."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now
