"""The NVM records the field settings and gas safety add: ``lim`` in ``cfg``, ``gas`` in
``reg``, a detail in ``evt``; each optional, so older records load and keep their bytes."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from stsgas.meter.events import CloseReason, LogKind
from stsgas.meter.history import EventLog, LogEntry
from stsgas.meter.state import (
    Balance,
    Config,
    Limits,
    Lockout,
    RegisterSet,
    Supply,
    Timers,
    Valve,
)
from stsgas.meter.tariff import Tariff

small = st.integers(0, 2**31)
maybe = st.none() | small
limits = st.builds(
    Limits, small, maybe, small, st.tuples(small, small), small, maybe, small, maybe, small
)
TARIFF = Tariff.from_json([{"up_to_m3": None, "price": "2.50"}])


@given(st.none() | limits, st.sampled_from(["UTC", "Africa/Nairobi"]), st.integers(1, 28))
def test_config_with_limits_round_trips(lim: Limits | None, tz: str, day: int) -> None:
    """Written and read back equal, still version 2 (``lim`` is an optional key)."""
    cfg = Config(TARIFF, None, tz, day, lim)
    data = cfg.to_record()
    assert Config.from_record(data, tz="UTC", billing_day=1) == (cfg, False)
    assert ("lim" in json.loads(data)[1]) == (lim is not None)


def test_config_record_without_limits_loads_as_commissioned() -> None:
    """A cfg record from before field settings: limits None (the commissioning values hold)."""
    golden = json.loads((Path(__file__).parents[1] / "data/meter/nvm-records-v2.json").read_text())
    old = golden["records"]["cfg"].encode()
    cfg, _ = Config.from_record(old, tz="UTC", billing_day=1)
    assert cfg.limits is None
    assert cfg.to_record() == old


@given(st.sampled_from([None, CloseReason.EXCESS_FLOW, CloseReason.LEAK]), small)
def test_registers_keep_the_gas_latch(gas: CloseReason | None, seq: int) -> None:
    """``gas`` is written only while a shut-off holds, and reads back; the bytes are json's."""
    regs = RegisterSet(
        Balance(1, 2, 3, 4, 5, 6, 7, 8, 9),
        Valve(False, gas, 1, 0, False),
        Supply(True, 0, 3.6, False, gas),
        Lockout(0, 0, seq),
        Timers(0, 0, 0, 0.0, 0),
    )
    data = regs.to_record()
    assert RegisterSet.from_record(data, overdraft=0) == (regs, False)
    value = json.loads(data)[1]
    assert value.get("gas") == (None if gas is None else gas.value)
    assert data == json.dumps([2, value], separators=(",", ":")).encode()


@given(small)
def test_registers_keep_a_held_leak_run(run: int) -> None:
    """``run`` (a leak run's seconds, kept while the valve is shut) is written only when
    set, reads back, and the bytes are json's."""
    regs = RegisterSet(
        Balance(1, 2, 3, 4, 5, 6, 7, 8, 9),
        Valve(False, CloseReason.POWER, 1, 0, False),
        Supply(False, 0, 3.6, False, None, run),
        Lockout(0, 0, 0),
        Timers(0, 0, 0, 0.0, 0),
    )
    data = regs.to_record()
    assert RegisterSet.from_record(data, overdraft=0) == (regs, False)
    value = json.loads(data)[1]
    assert value.get("run", 0) == run
    assert data == json.dumps([2, value], separators=(",", ":")).encode()


@given(st.lists(st.tuples(st.sampled_from(LogKind), small, st.text(max_size=40)), max_size=20))
def test_event_details_round_trip(rows: list[tuple[LogKind, int, str]]) -> None:
    """Entries with a detail get a third element (json's text for it); others keep two."""
    log = EventLog()
    for kind, at, detail in rows:
        log = log.add(LogEntry(kind, at, detail), 200)
    want = [[e.kind.value, e.at, *([e.detail] if e.detail else [])] for e in log.entries]
    assert log.to_record() == json.dumps([1, want], separators=(",", ":")).encode()
    assert EventLog.from_record(log.to_record()) == log
