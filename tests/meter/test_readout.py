"""Every object of the optical readout, one scenario each, read through the 62056-21 session."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from stsgas.irproto import encode_frame, mac_for
from stsgas.meter import MemoryStateStore, Meter
from stsgas.meter.readout import OBJECTS, Readout, take_readout
from stsgas.meter.readout_codec import (
    ACK,
    SIGN_ON,
    data_set,
    decode_events,
    decode_hourly,
    decode_monthly,
    parse_block,
)  # fmt: skip
from stsgas.meter.readout_session import OpticalPort
from stsgas.sts import MeterConfig, credit_token, key_change_tokens

from .readout_support import T0, key_of, login, make, read, readout_json, sample_meter

H = timedelta(hours=1)
NOW = T0 + 3 * H


def public(meter: Meter, now: datetime) -> dict[str, str]:
    """The data readout (no password): OBIS code -> value text with its unit."""
    port = OpticalPort(meter, switch_over=0)
    port.receive_ir(SIGN_ON, now)
    message = port.receive_ir(ACK + b"050\r\n", now)
    assert isinstance(message, bytes)
    return {line.split("(", 1)[0]: line for line in parse_block(message)}


def read_lines(meter: Meter, address: str, now: datetime, **over: object) -> list[str]:
    """Log in with the meter's key and read one address."""
    port = OpticalPort(meter, switch_over=0)
    assert login(port, key_of(readout_json(**over)), now) == ACK
    return parse_block(read(port, address, now))


# ---- registers (public) -----------------------------------------------------------------
def _used(m: Meter) -> None:
    m.flow(1234, T0 + H)
    m.set_battery(3.55, T0 + 2 * H)


REGISTERS = {
    "credit": ("7-0:128.0.1", "398.766*m3"),
    "total_m3": ("7-0:3.0.0", "1.234*m3"),
    "month_m3": ("7-0:128.0.2", "1.234*m3"),
    "recharged": ("7-0:128.0.3", "400.000*m3"),
    "battery_v": ("0-0:96.6.3", "3.55*V"),
    "valve": ("0-0:96.3.10", "open"),
}


@pytest.mark.parametrize("name", sorted(REGISTERS))
def test_each_register_is_in_the_public_readout(name: str) -> None:
    """After 1.234 m3 and a battery at 3.55 V, each register reads its exact value unasked
    for a password, under its OBIS code."""
    m = make()
    _used(m)
    obis, text = REGISTERS[name]
    assert public(m, NOW)[obis] == f"{obis}({text})"
    assert dict(take_readout(m, NOW).registers)[name] == text.split("*")[0]


def test_public_readout_has_the_meter_and_no_history_or_settings() -> None:
    """The data readout names the meter, its clock and mode, and nothing a public client
    may not see: no setting, no profile."""
    m = make()
    _used(m)
    lines = public(m, NOW)
    assert lines["0-0:96.1.0"] == "0-0:96.1.0(600727000000000009)"
    assert lines["0-0:1.0.0"] == f"0-0:1.0.0({NOW.isoformat()})"
    assert lines["7-0:128.0.0"] == "7-0:128.0.0(volume)"
    settings = {o.obis for o in OBJECTS if o.kind == "setting"}
    assert not settings & set(lines)
    assert not any(code.startswith("P.") for code in lines)


def test_valve_closed_and_amount_mode_credit() -> None:
    """A closed valve reads ``closed``; an amount-mode meter's credit is money, no unit."""
    m = make(mode="amount", initial_credit="120.50", overdraft="6", low_credit_alarm="15")
    m.magnet(True, T0 + H)
    lines = public(m, NOW)
    assert lines["0-0:96.3.10"] == "0-0:96.3.10(closed)"
    assert lines["7-0:128.0.1"] == "7-0:128.0.1(120.50)"
    assert lines["7-0:128.0.0"] == "7-0:128.0.0(amount)"


# ---- settings (authenticated) -------------------------------------------------------------
SETTINGS = {
    "overdraft": "2.000",
    "recharge_limit": "100000.000",
    "low_credit_alarm": "5.000",
    "battery_low_1_v": "3.40",
    "battery_low_2_v": "3.20",
    "auto_clean_days": "30",
    "timezone": "Africa%2FNairobi",
    "billing_day": "1",
}


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_each_setting_reads_after_login(name: str) -> None:
    """Each field setting answers ``R1 <its code>`` with the value the meter applies."""
    (obj,) = (o for o in OBJECTS if o.name == name)
    lines = read_lines(make(), obj.obis, NOW)
    assert len(lines) == 1
    assert lines[0].startswith(f"{obj.obis}({SETTINGS[name]}")
    want: object = int(SETTINGS[name]) if name in ("auto_clean_days", "billing_day") else None
    got = dict(take_readout(make(), NOW).settings)[name]
    assert got == (want if want is not None else SETTINGS[name].replace("%2F", "/"))


def test_no_recharge_limit_reads_none_and_absent_safety_settings_err() -> None:
    """A meter without a recharge limit says ``none``; a setting this meter lacks
    (no gas-safety settings here) answers ``(ERROR)``, not a made-up value."""
    doc = {k: v for k, v in readout_json().items() if k != "recharge_limit"}
    m = Meter.from_json(doc, store=MemoryStateStore(), now=T0)
    assert read_lines(m, "7-0:128.1.2", NOW)[0] == "7-0:128.1.2(none*m3)"
    assert read_lines(make(), "7-0:128.1.9", NOW) == ["(ERROR)"]


# ---- profiles ---------------------------------------------------------------------------
def test_monthly_records_are_the_finished_periods() -> None:
    """Three finished billing periods (Nairobi midnight on the 1st) read back exactly."""
    m = make()
    for month, litres in ((1, 1000), (2, 2500), (3, 125)):
        m.flow(litres, datetime(2016, month, 10, 12, tzinfo=T0.tzinfo))
    now = datetime(2016, 4, 2, tzinfo=T0.tzinfo)
    lines = read_lines(m, "P.02", now)
    assert lines[0] == "P.02(1601)(00)(M)(1)(7-0:3.0.0)(m3)"
    assert decode_monthly(lines) == (
        ("2016-01", Decimal("1.000")),
        ("2016-02", Decimal("2.500")),
        ("2016-03", Decimal("0.125")),
    )


def test_hourly_records_with_a_gap_start_a_new_run() -> None:
    """Hours with gas read back with their hour; a gap starts a new P.01 header."""
    m = make()
    m.flow(120, T0 + 9 * H + timedelta(minutes=5))
    m.flow(80, T0 + 9 * H + timedelta(minutes=50))
    m.flow(30, T0 + 10 * H + timedelta(minutes=1))
    m.flow(7, T0 + 14 * H + timedelta(minutes=1))
    now = T0 + 15 * H
    lines = read_lines(m, "P.01", now)
    assert lines == [
        "P.01(1601010900)(00)(60)(1)(7-0:3.0.0)(m3)", "(0.200)", "(0.030)",
        "P.01(1601011400)(00)(60)(1)(7-0:3.0.0)(m3)", "(0.007)",
    ]  # fmt: skip
    assert decode_hourly(lines) == (
        (T0 + 9 * H, Decimal("0.200")),
        (T0 + 10 * H, Decimal("0.030")),
        (T0 + 14 * H, Decimal("0.007")),
    )


def _signed(m: Meter, payload: str) -> bytes:
    return encode_frame(f"{payload} {mac_for(m.key.value, payload)}")


def _key_change(m: Meter, at: datetime) -> None:
    old = MeterConfig.from_json(readout_json())
    new = MeterConfig.from_json({**readout_json(), "krn": 2, "vending_key": "cdcdcdcdcdcdcdcd"})
    for token in key_change_tokens(old, new):
        m.enter_token(token.digits, at)


EVENT_SCENARIOS: dict[str, Callable[[Meter, datetime], object]] = {
    "magnetic_interference": lambda m, at: m.magnet(True, at),
    "battery_low_1": lambda m, at: m.set_battery(3.35, at),
    "battery_low_2": lambda m, at: m.set_battery(3.1, at),
    "battery_replacement": lambda m, at: m.replace_battery(3.6, at),
    "power_down": lambda m, at: m.power(False, at),
    "power_up": lambda m, at: (m.power(False, at - H), m.power(True, at)),
    "tamper_cleared": lambda m, at: m.receive_ir(_signed(m, "clear_tamper 1"), at),
    "clock_set": lambda m, at: m.receive_ir(_signed(m, f"clock 1 {at:%Y-%m-%dT%H:%M:%SZ}"), at),
    "ir_replay": lambda m, at: (
        m.receive_ir(_signed(m, "clear_tamper 5"), at - H),
        m.receive_ir(_signed(m, "clear_tamper 5"), at),
    ),
    "token_accepted": lambda m, at: m.enter_token(
        credit_token(MeterConfig.from_json(readout_json()), "5", at=at, rnd=3).digits, at
    ),
    "key_changed": _key_change,
    "token_rejected": lambda m, at: (
        m.enter_token(_credit("5", at - H, 3), at - H),
        m.enter_token(_credit("5", at - H, 3), at),  # the same token again: used
    ),
    "recharge_limit": lambda m, at: m.enter_token(_credit("200000", at, 4), at),
    "tariff_loaded": lambda m, at: m.receive_ir(
        _signed(m, f"tariff 1 {at + H:%Y-%m-%dT%H:%M:%SZ} -:3.10"), at
    ),
    "tariff_changed": lambda m, at: (
        m.receive_ir(_signed(m, f"tariff 1 {at:%Y-%m-%dT%H:%M:%SZ} -:3.10"), at - H),
        m.handle_timer(at),
    ),
}


def _credit(amount: str, at: datetime, rnd: int) -> str:
    return credit_token(MeterConfig.from_json(readout_json()), amount, at=at, rnd=rnd).digits


@pytest.mark.parametrize("kind", sorted(EVENT_SCENARIOS))
def test_each_event_kind_reads_with_its_exact_time(kind: str) -> None:
    """The scenario's event is in the P.98 log with its exact second and its code."""
    m = make()
    at = T0 + 5 * H + timedelta(seconds=17)
    EVENT_SCENARIOS[kind](m, at)
    now = at + H
    key_over = {"krn": 2, "vending_key": "cdcdcdcdcdcdcdcd"} if kind == "key_changed" else {}
    events = decode_events(read_lines(m, "P.98", now, **key_over))
    assert (at, kind, "") in events
    assert events == take_readout(m, now).events


def test_auto_clean_and_readout_refusal_are_in_the_log() -> None:
    """The monthly valve clean (03:00 Nairobi = 00:00 UTC, 30 days on) and a refused
    readout login read back from P.98 with their times."""
    m = make()
    port = OpticalPort(m, switch_over=0)
    refused_at = T0 + H
    assert login(port, bytes(8), refused_at) != ACK
    now = T0 + timedelta(days=31)
    m.handle_timer(now)
    events = decode_events(read_lines(m, "P.98", now))
    assert (refused_at, "readout_refused", "") in events
    assert (datetime(2016, 1, 31, tzinfo=T0.tzinfo), "valve_cleaned", "") in events


@pytest.mark.parametrize("direction", ["open", "close"])
def test_valve_failures_are_logged_and_read(direction: str) -> None:
    """A stuck valve found by the auto-clean (every 30 days, 03:00 local) reads back as
    ``valve_<direction>_failure`` at the clean's time."""
    m = make()
    m.set_valve_fault(direction == "open", direction == "close", T0 + H)
    now = T0 + timedelta(days=31)
    m.handle_timer(now)
    events = decode_events(read_lines(m, "P.98", now))
    assert f"valve_{direction}_failure" in {code for _, code, _ in events}


def test_every_object_has_a_distinct_code() -> None:
    """No two objects share an OBIS code, and every code and unit fits a data set."""
    codes = [o.obis for o in OBJECTS]
    assert len(set(codes)) == len(codes)
    for obj in OBJECTS:
        unit = "m3" if obj.unit == "credit" else obj.unit
        assert data_set(obj.obis, "1", unit) == f"{obj.obis}(1{'*' + unit if unit else ''})"


def test_sample_file_is_a_real_readout_of_the_sample_meter() -> None:
    """tests/data/readout/sample.json (written by ``irpad readout`` over a pty) is exactly
    the sample meter's state, in the contract's format, and its JSON round-trips."""
    doc = json.loads((Path(__file__).parent.parent / "data/readout/sample.json").read_text())
    r = Readout.from_json(doc)
    m, _ = sample_meter()
    assert r == take_readout(m, r.read_at)
    assert r.to_json() == doc
    visit = {"magnetic_interference", "battery_low_1"}
    assert visit <= {code for _, code, _ in r.events}
