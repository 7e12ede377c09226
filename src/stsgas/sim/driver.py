"""The simulator's one seam to the meter core: build a meter, feed it, read it.

Everything the simulator asks of ``stsgas.meter`` goes through these small
functions, so the runner reads as the customer's story and the meter's API
is named in one place.
"""

from __future__ import annotations

import functools
import hashlib
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

from stsgas.meter import MemoryStateStore, StateStore
from stsgas.meter.events import Events, Logged, ValveChanged
from stsgas.meter.meter import Meter
from stsgas.meter.nvm import FileNvm, MemoryNvm, NvmError
from stsgas.meter.nvm_store import EncryptedRecordStore
from stsgas.meter.settings import SettingsError

__all__ = [
    "SetupError",
    "battery_alarm",
    "closures",
    "demo_meter_json",
    "file_store",
    "file_store_factory",
    "logged",
    "make_meter",
    "memory_nvm_store",
    "memory_state_store",
]

DEMO_METER: dict[str, Any] = {
    "pan": "600727000000000009", "key_type": 2, "sgc": "123456", "ti": "01", "krn": 1,
    "ken": 255, "base_date": 2014, "ea": "07", "dkga": "02",
    "vending_key": "abababababababab",
    "tariff": [{"up_to_m3": "10", "price": "2.50"}, {"up_to_m3": "50", "price": "3.10"},
               {"up_to_m3": None, "price": "3.60"}],
    "overdraft": "2", "recharge_limit": "500", "low_credit_alarm": "5",
    "battery_levels_v": [3.4, 3.2], "valve_clean_days": 30, "hourly_record_days": 90,
    "initial_credit": "0", "battery_v": 3.6,
}  # fmt: skip


class SetupError(Exception):
    """The meter could not be built: bad configuration or untrusted storage."""


def demo_meter_json(mode: str = "volume") -> dict[str, Any]:
    """The demo meter's scenario object; amount mode gets money-sized limits."""
    doc = {**DEMO_METER, "mode": mode}
    if mode == "amount":
        doc.update(overdraft="6", recharge_limit="1500", low_credit_alarm="15")
    return doc


def nvm_key(meter_json: dict[str, Any]) -> bytes:
    """The demo NVM key for a meter: a hash of its number (a real meter has it in its MCU)."""
    ident = str(meter_json.get("pan") or f"{meter_json.get('iin')}{meter_json.get('drn')}")
    return hashlib.sha256(b"stsgas demo nvm key " + ident.encode()).digest()[:16]


def memory_state_store(index: int = 0) -> StateStore:
    """Plain memory state: no NVM writes at all."""
    return MemoryStateStore()


def memory_nvm_store(index: int = 0) -> StateStore:
    """The encrypted A/B record store on an in-memory page device."""
    return EncryptedRecordStore(MemoryNvm(), nvm_key(DEMO_METER))


def file_store(path: Path, *, fresh: bool = False) -> StateStore:
    """The encrypted A/B record store on a file (``fresh`` removes an old file first)."""
    if fresh:
        path.unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    return EncryptedRecordStore(FileNvm(path), nvm_key(DEMO_METER))


def _file_store_at(base: Path, fleet: bool, index: int) -> StateStore:
    path = base.with_name(f"{base.name}.{index}") if fleet else base
    return file_store(path, fresh=True)


def file_store_factory(base: Path, *, fleet: bool) -> functools.partial[StateStore]:
    """A picklable store factory: ``base`` (or ``base.N`` per fleet meter), started blank."""
    return functools.partial(_file_store_at, base, fleet)


def make_meter(meter_json: dict[str, Any], *, now: datetime, store: StateStore | None) -> Meter:
    """A commissioned meter from a scenario ``meter`` object, its clock at ``now``.

    Raises:
        SetupError: a bad meter object, or storage that cannot be trusted.
    """
    try:
        return Meter.from_json(meter_json, store=store or MemoryStateStore(), now=now)
    except (SettingsError, NvmError, ValueError) as exc:
        raise SetupError(str(exc)) from exc


def logged(out: Events, into: Counter[str]) -> None:
    """Count the event-log entries in one input's returned events."""
    for e in out:
        if isinstance(e, Logged):
            into[e.type] += 1


def closures(out: Events) -> list[str]:
    """Reasons of the valve closes (that really moved the valve) in returned events."""
    return [
        e.reason or "unknown"
        for e in out
        if isinstance(e, ValveChanged) and not e.open and e.ok
    ]


def battery_alarm(meter: Meter) -> bool:
    """A battery alarm (level 1 or 2) is active."""
    return "battery_low_1" in meter.alarms()
