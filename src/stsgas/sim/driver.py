"""The simulator's one seam to the meter core: build a meter, feed it, read it.

Everything the simulator asks of ``stsgas.meter`` goes through these small
functions, so the runner reads as the customer's story and the meter's API
is named in one place.
"""

from __future__ import annotations

import functools
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

from stsgas.meter import MemoryStateStore, StateStore
from stsgas.meter.adapters.file_nvm import FileNvm
from stsgas.meter.demo import DEMO_METER, demo_meter_json, nvm_key
from stsgas.meter.events import Events, LcdChanged, Logged, ValveChanged
from stsgas.meter.meter import Meter
from stsgas.meter.nvm import MemoryNvm, NvmError
from stsgas.meter.nvm_store import EncryptedRecordStore, split_record_store
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
    "tally",
]


class SetupError(Exception):
    """The meter could not be built: bad configuration or untrusted storage."""


def memory_state_store(index: int = 0) -> StateStore:
    """Plain memory state: no NVM writes at all."""
    return MemoryStateStore()


def memory_nvm_store(index: int = 0) -> StateStore:
    """The encrypted A/B record stores on an in-memory page device, the hourly trend in
    its own region (so a register commit does not reseal it)."""
    return split_record_store(MemoryNvm(), nvm_key(DEMO_METER))


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
            into[e.type.value] += 1


def closures(out: Events) -> list[str]:
    """Reasons of the valve closes (that really moved the valve) in returned events."""
    return [
        str(e.reason or "unknown")
        for e in out
        if isinstance(e, ValveChanged) and not e.open and e.ok
    ]


def tally(out: Events, into: Counter[str]) -> list[str]:
    """:func:`logged` and :func:`closures` in one pass (the simulator watches every draw's
    events; most are one LCD update)."""
    closed: list[str] = []
    for e in out:
        if isinstance(e, LcdChanged):
            continue
        if isinstance(e, Logged):
            into[e.type.value] += 1
        elif isinstance(e, ValveChanged) and not e.open and e.ok:
            closed.append(str(e.reason or "unknown"))
    return closed


def battery_alarm(meter: Meter) -> bool:
    """A battery alarm (level 1 or 2) is active."""
    return "battery_low_1" in meter.alarms()
