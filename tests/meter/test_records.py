"""Stored records: a record set written by the meter before issue 12 still loads.

tests/data/meter/nvm-records-v2.json was written by the meter whose state was a
dict of short keys: its records, and what that meter read back from them (every
query code, registers, logs, alarms, the next timer). Today's meter must load
the same records into the same state and, having changed nothing, write them
back byte for byte.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from stsgas.meter import MemoryStateStore, Meter
from stsgas.meter.nvm import MemoryNvm
from stsgas.meter.nvm_store import EncryptedRecordStore
from stsgas.meter.query import CODES, answer
from stsgas.meter.storage import StateStore

GOLDEN = json.loads(
    (Path(__file__).resolve().parents[1] / "data" / "meter" / "nvm-records-v2.json").read_text()
)


def _records() -> dict[str, bytes]:
    recs: dict[str, str] = GOLDEN["records"]
    return {k: bytes.fromhex(v) if k == "hour" else v.encode() for k, v in recs.items()}


_REGISTERS = ("credit", "total_l", "month_l", "recharged", "billed", "cleared", "carry_milli")


def _readout(m: Meter) -> dict[str, Any]:
    regs = m.registers
    due = m.next_deadline()
    hours = m.hourly_records()
    return {
        "answers": {c: answer(m, c) for c in sorted(CODES)},
        "valve_open": m.valve_open,
        "valve_reason": m.valve_reason,
        "alarms": m.alarms(),
        "registers": {k: getattr(regs, k) for k in _REGISTERS},
        "tids": list(regs.tids),
        "events": [[k, t.isoformat()] for k, t in m.events()],
        "monthly": [list(x) for x in m.monthly_records()],
        "hourly_count": len(hours),
        "hourly_last": [hours[-1][0].isoformat(), hours[-1][1]],
        "hourly_sum": sum(v for _, v in hours),
        "next_deadline": None if due is None else due.isoformat(),
    }


def _load(store: StateStore) -> Meter:
    store.commit(_records())
    return Meter.from_json(
        GOLDEN["meter"], store=store, now=datetime.fromisoformat(GOLDEN["loaded_at"])
    )


def test_a_record_set_from_before_the_typed_state_loads_into_the_same_state() -> None:
    """Every query code, register, log, alarm and timer reads as the old meter read them."""
    assert _readout(_load(MemoryStateStore())) == GOLDEN["expect"]


def test_the_same_records_load_from_the_encrypted_store() -> None:
    """Sealed on an NVM page device, the record set loads into the same state."""
    store = EncryptedRecordStore(MemoryNvm(), bytes(range(16)), nonce=lambda n: bytes(n))
    assert _readout(_load(store)) == GOLDEN["expect"]


def test_todays_records_are_written_back_unchanged() -> None:
    """Loaded and flushed with nothing changed, every record keeps its bytes (same versions)."""
    store = MemoryStateStore()
    m = _load(store)
    m.flush()
    saved = store.load()
    assert saved is not None
    assert saved == _records()
