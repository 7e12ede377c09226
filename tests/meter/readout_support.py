"""Meters to read out: a fresh one, a ten-year one, and a login helper for the optical port."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from stsgas.meter import MemoryStateStore, Meter
from stsgas.meter.demo import demo_meter_json
from stsgas.meter.readout_codec import ACK, SIGN_ON, command_message, parse_command
from stsgas.meter.readout_session import OpticalPort, password_for
from stsgas.sts import MeterConfig

T0 = datetime(2016, 1, 1, tzinfo=UTC)


def readout_json(**over: Any) -> dict[str, Any]:
    """The demo meter with gas to spend, 90 days of hourly records, Nairobi time."""
    return {
        **demo_meter_json(),
        "initial_credit": "400",
        "recharge_limit": "100000",
        "hourly_record_days": 90,
        "timezone": "Africa/Nairobi",
        **over,
    }


def key_of(doc: dict[str, Any]) -> bytes:
    """The meter's decoder key (what the IR pad derives from the meter object)."""
    return MeterConfig.from_json(doc).key().value


def make(now: datetime = T0, **over: Any) -> Meter:
    """A commissioned readout meter with its valve open."""
    meter = Meter.from_json(readout_json(**over), store=MemoryStateStore(), now=now)
    meter.open_key(now)
    return meter


@dataclass(frozen=True)
class TenYears:
    """A meter that ran ten years, and the time right after."""

    doc: dict[str, Any]
    meter: Meter
    now: datetime


def _ten_years() -> TenYears:
    doc = readout_json(initial_credit="50000")
    meter = Meter.from_json(doc, store=MemoryStateStore(), now=T0)
    meter.open_key(T0)
    day = 0
    at = T0
    while at < datetime(2026, 1, 1, tzinfo=UTC):
        for hour, litres in ((6, 90 + day * 37 % 211), (18, 150 + day * 53 % 307)):
            at = T0 + timedelta(days=day, hours=hour, minutes=5)
            meter.flow(litres, at)
        day += 1
    meter.magnet(True, at + timedelta(minutes=1))
    return TenYears(doc, meter, at + timedelta(hours=2))


@functools.cache
def _ten_years_records() -> tuple[dict[str, Any], dict[str, bytes], datetime]:
    ten = _ten_years()
    ten.meter.flush()
    records = ten.meter.store.load()
    assert records is not None
    return ten.doc, records, ten.now


def ten_years() -> TenYears:
    """A fresh copy of the ten-year meter (simulated once per test session, then restored
    from its records, so each test may log in and change it)."""
    doc, records, now = _ten_years_records()
    store = MemoryStateStore()
    store.commit(records)
    return TenYears(doc, Meter.from_json(doc, store=store, now=now), now)


def login(port: OpticalPort, key: bytes, now: datetime) -> bytes:
    """Sign on in programming mode and answer the seed; the meter's reply (ACK or NAK)."""
    assert port.receive_ir(SIGN_ON, now) is not None
    request = port.receive_ir(ACK + b"051\r\n", now)
    assert isinstance(request, bytes)
    _, _, data = parse_command(request)
    assert data is not None
    seed = data.strip("()")
    reply = port.receive_ir(
        command_message("P", "1", f"({password_for(key, port.meter.key.pan, seed)})"), now
    )
    assert isinstance(reply, bytes)
    return reply


def read(port: OpticalPort, address: str, now: datetime) -> bytes:
    """``R1 address()``: the meter's answer message."""
    reply = port.receive_ir(command_message("R", "1", f"{address}()"), now)
    assert isinstance(reply, bytes)
    return reply


__all__ = ["ACK", "T0", "TenYears", "key_of", "login", "make", "read", "readout_json", "ten_years"]


SAMPLE_START = datetime(2025, 10, 1, 6, tzinfo=UTC)
CLEAR = "clear_tamper 1"


def sample_meter() -> tuple[Meter, datetime]:
    """The meter behind tests/data/readout/sample.json: 14 months of a household's gas,
    3 days of hourly records, a low battery and its replacement, a magnet and its
    clearing, a power cut; and the time it is read."""
    from stsgas.irproto import encode_frame, mac_for

    start = SAMPLE_START
    m = make(start, hourly_record_days=3)
    incidents: dict[int, Callable[[datetime], object]] = {
        200: lambda at: (m.set_battery(3.38, at), m.open_key(at + timedelta(minutes=5))),
        210: lambda at: (m.replace_battery(3.6, at), m.open_key(at + timedelta(minutes=5))),
        300: lambda at: m.magnet(True, at),
        301: lambda at: (
            m.receive_ir(encode_frame(f"{CLEAR} {mac_for(m.key.value, CLEAR)}"), at),
            m.open_key(at + timedelta(minutes=5)),
        ),
        350: lambda at: (
            m.power(False, at), m.power(True, at + H), m.open_key(at + H + timedelta(minutes=5))
        ),
    }  # fmt: skip
    for day in range(430):
        at = start + timedelta(days=day)
        m.flow(120 + day % 7 * 10, at + timedelta(hours=5, minutes=10))
        if day in incidents:
            incidents[day](at + timedelta(hours=9, minutes=30))
        m.flow(200 + day % 5 * 25, at + timedelta(hours=16, minutes=40))
    return m, start + timedelta(days=430, hours=2)


H = timedelta(hours=1)
