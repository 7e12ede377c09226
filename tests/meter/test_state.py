"""The typed state's records: every value survives to_record/from_record, and the bytes
are the compact JSON meters have always written (Hypothesis over the field ranges)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stsgas.meter.errors import RecordError
from stsgas.meter.events import CloseReason, LogKind
from stsgas.meter.history import (
    EventLog,
    LogEntry,
    MonthRecord,
    months_from_record,
    months_to_record,
    tids_from_record,
    tids_to_record,
)
from stsgas.meter.state import (
    Balance,
    Config,
    KeyData,
    Lockout,
    PendingTariff,
    RegisterSet,
    Supply,
    Timers,
    Valve,
)
from stsgas.meter.tariff import Tariff
from stsgas.meter.trend import HourlyTrend

#: the key order of a reg record written by the meter before the typed state
GOLDEN_REG_KEYS = [
    k
    for k in json.loads(
        json.loads((Path(__file__).parents[1] / "data/meter/nvm-records-v2.json").read_text())[
            "records"
        ]["reg"]
    )[1]
    if k != "ir_seq"
]
ints = st.integers(-(2**53), 2**53)
small = st.integers(0, 2**31)
volts = st.floats(0, 10) | st.sampled_from([3, float("inf"), -float("inf")])

registers = st.builds(
    RegisterSet,
    st.builds(Balance, ints, small, small, ints, ints, ints, st.integers(0, 999), ints, small),
    st.builds(Valve, st.booleans(), st.none() | st.sampled_from(CloseReason), small, small,
              st.booleans()),
    st.builds(Supply, st.booleans(), st.integers(0, 2), volts, st.booleans()),
    st.builds(Lockout, small, small, small),
    st.builds(Timers, small, small, st.sampled_from([0, 1993, 2014, 2035]),
              st.floats(-1e9, 1e9, allow_nan=False), small),
)  # fmt: skip


@given(registers)
def test_registers_round_trip(regs: RegisterSet) -> None:
    """The five parts come back equal, from today's version (not marked old)."""
    assert RegisterSet.from_record(regs.to_record(), overdraft=2000) == (regs, False)


@given(registers)
def test_register_bytes_are_compact_json_in_the_old_key_order(regs: RegisterSet) -> None:
    """Version 2, the 25 short keys in the order meters wrote them, ir_seq only once set."""
    version, value = json.loads(regs.to_record())
    assert version == 2
    assert [k for k in value if k != "ir_seq"] == GOLDEN_REG_KEYS
    assert ("ir_seq" in value) == (regs.lockout.ir_seq != 0)
    assert regs.to_record() == json.dumps([2, value], separators=(",", ":")).encode()


@given(
    st.lists(st.builds(LogEntry, st.sampled_from(LogKind), small), max_size=250),
    st.integers(1, 200),
)
def test_event_log_record_is_what_json_writes(entries: list[LogEntry], keep: int) -> None:
    """The log's ready-made texts give the bytes json.dumps gives, and load back."""
    log = EventLog()
    for e in entries:
        log = log.add(e, keep)
    assert log.entries == tuple(entries[-keep:])
    want = [1, [[e.kind.value, e.at] for e in log.entries]]
    assert log.to_record() == json.dumps(want, separators=(",", ":")).encode()
    assert EventLog.from_record(log.to_record()) == log


keys = st.builds(
    KeyData, st.binary(min_size=8, max_size=16), st.integers(0, 99), st.integers(0, 9),
    st.integers(0, 3), st.integers(0, 255), st.from_regex(r"\A[0-9]{2}\Z"),
    st.from_regex(r"\A[0-9]{6}\Z"), st.sampled_from([1993, 2014, 2035]),
    st.from_regex(r"\A[0-9]{18}\Z"),
)  # fmt: skip


@given(keys)
def test_key_data_round_trips(key: KeyData) -> None:
    """Key bytes, numbers and the text fields come back as they were."""
    assert KeyData.from_record(key.to_record()) == (key, False)


prices = st.lists(st.integers(0, 10**9), min_size=1, max_size=4)


@given(prices, st.none() | st.integers(0, 2**32), st.integers(1, 28))
def test_config_round_trips(steps: list[int], pending_at: int | None, day: int) -> None:
    """Tariff, pending tariff, zone and billing day come back equal."""
    tariff = Tariff.from_json(
        [
            {"up_to_m3": None if i == len(steps) - 1 else str(i + 1), "price": str(p / 100_000)}
            for i, p in enumerate(steps)
        ]
    )
    pending = None if pending_at is None else PendingTariff(Tariff.flat(250_000), pending_at)
    cfg = Config(tariff, pending, "Africa/Johannesburg", day)
    assert Config.from_record(cfg.to_record(), tz="UTC", billing_day=1) == (cfg, False)


@given(
    st.lists(small, max_size=50),
    st.lists(st.builds(MonthRecord, st.from_regex(r"\A20[0-9]{2}-[01][0-9]\Z"), small)),
)
def test_tids_and_months_round_trip(tids: list[int], months: list[MonthRecord]) -> None:
    """The TID memory and the finished months come back equal, in order."""
    assert tids_from_record(tids_to_record(tuple(tids))) == tuple(tids)
    assert months_from_record(months_to_record(tuple(months))) == tuple(months)


@given(st.lists(st.tuples(st.integers(0, 10**6), st.integers(1, 10**6)), max_size=100))
def test_hourly_trend_round_trips(pairs: list[tuple[int, int]]) -> None:
    """The trend's pairs load back from its bytes."""
    trend = HourlyTrend()
    for hour, litres in sorted(dict(pairs).items()):
        trend.add(hour, litres, days=10**6)
    assert HourlyTrend.from_record(trend.to_record()).pairs() == trend.pairs()


@pytest.mark.parametrize(
    ("load", "data"),
    [
        (lambda d: RegisterSet.from_record(d, overdraft=0), b"[3,{}]"),
        (lambda d: RegisterSet.from_record(d, overdraft=0), b"[2,{\"credit\":1}]"),
        (lambda d: KeyData.from_record(d), b"not json"),
        (lambda d: Config.from_record(d, tz="UTC", billing_day=1), b"[2,{\"tariff\":[]}]"),
        (EventLog.from_record, b"[1,[[\"no_such_event\",1]]]"),
        (tids_from_record, b"[1,{}]"),
        (HourlyTrend.from_record, b"H2"),
    ],
)  # fmt: skip
def test_a_record_this_meter_cannot_read_is_a_record_error(load: object, data: bytes) -> None:
    """Unknown versions and malformed values are one typed error, never a KeyError."""
    with pytest.raises(RecordError):
        load(data)  # type: ignore[operator]
