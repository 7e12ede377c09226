"""Field settings by the signed IR ``settings`` command: accepted, refused, all or none,
authenticated, never replayed, kept through power loss."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stsgas.irproto import SETTING_NAMES, encode_frame, mac_for, signed
from stsgas.meter import MemoryStateStore, Meter
from stsgas.meter._field import setting_text
from stsgas.meter.events import Logged, LogKind
from stsgas.meter.settings import SettingsError

from .meter_support import T0, make

H = timedelta(hours=1)
CASES = json.loads((Path(__file__).parents[1] / "data/meter/field-settings.json").read_text())
ACCEPT = [(n, v, d) for n, vals in CASES["accept"].items() for v, d in vals.items()]
REFUSE = [(n, v) for n, vals in CASES["refuse"].items() for v in vals]


def ir(m: Meter, cmd: str, *args: str, at: datetime, seq: int | None = None) -> str:
    """Send a command signed with the meter's key; the reply's text."""
    n = m.lockout.ir_seq + 1 if seq is None else seq
    reply = m.receive_ir(encode_frame(signed(m.key.value, cmd, n, *args)), at).reply or b""
    return reply[1:-5].decode()


def snapshot(m: Meter) -> tuple[object, ...]:
    """Everything a refused command must leave as it was."""
    return (m.settings, m.config, m.lockout, m.timers, m.event_log.entries, m.valve, m.supply)


def test_the_case_file_covers_every_setting() -> None:
    """Each of the contract's settings has accepted and refused cases."""
    assert set(CASES["accept"]) == set(CASES["refuse"]) == set(SETTING_NAMES)


@pytest.mark.parametrize(("name", "value", "detail"), ACCEPT)
def test_setting_accepted_and_logged(name: str, value: str, detail: str) -> None:
    """In range: ``ok``, the counter moves, one setting_changed entry says old->new."""
    m = make()
    out = m.receive_ir(encode_frame(signed(m.key.value, "settings", 1, f"{name}={value}")), T0 + H)
    assert out.reply == encode_frame("ok settings 1")
    assert m.lockout.ir_seq == 1
    logged = [e for e in out if isinstance(e, Logged)]
    assert [(e.type, e.detail) for e in logged] == [(LogKind.SETTING_CHANGED, detail)]
    assert m.event_log.entries[-1].detail == detail


@pytest.mark.parametrize(("name", "value"), REFUSE)
def test_out_of_range_refused_and_nothing_changes(name: str, value: str) -> None:
    """Outside the safe range (or not in the fixed form): ``err range``, nothing kept,
    the counter not used up."""
    m = make()
    before = snapshot(m)
    assert ir(m, "settings", f"{name}={value}", at=T0 + H) == "err range"
    assert snapshot(m) == before
    assert ir(m, "settings", "billing_day=2", at=T0 + H, seq=1) == "ok settings 1"


def test_all_or_none() -> None:
    """One bad value among good ones refuses the whole command."""
    m = make()
    before = snapshot(m)
    text = "overdraft=10,billing_day=15,leak_s=5,timezone=Europe/Berlin"
    assert ir(m, "settings", text, at=T0 + H) == "err range"
    assert snapshot(m) == before


def test_same_value_is_ok_and_not_logged() -> None:
    """Sending the value the meter has changes nothing and logs nothing."""
    m = make()
    assert ir(m, "settings", "overdraft=2.000,billing_day=1", at=T0 + H) == "ok settings 2"
    assert LogKind.SETTING_CHANGED not in [k for k, _ in m.events()]


@pytest.mark.parametrize(
    "text",
    [
        "colour=red", "overdraft=1,overdraft=2", "overdraft", "overdraft=1;billing_day=2",
        "billing_day=2,", ",billing_day=2", "billing_day=2,,overdraft=1", "=2", "billing_day==2",
        "timezone=UTC\x00", "BILLING_DAY=2",
    ],
)  # fmt: skip
def test_malformed_list_is_a_format_error(text: str) -> None:
    """A list the codec cannot read (unknown or repeated name, bad syntax): ``err format``."""
    m = make()
    before = snapshot(m)
    assert ir(m, "settings", text, at=T0 + H) == "err format"
    assert snapshot(m) == before


def test_wrong_key_is_refused() -> None:
    """A MAC under another key: ``err auth``, nothing changes, the counter stays."""
    m = make()
    before = snapshot(m)
    payload = "settings 1 overdraft=10"
    frame = encode_frame(f"{payload} {mac_for(bytes(8), payload)}")
    assert m.receive_ir(frame, T0 + H).reply == encode_frame("err auth")
    assert snapshot(m) == before


def test_tampered_payload_is_refused() -> None:
    """A value changed after signing no longer matches its MAC."""
    m = make()
    good = signed(m.key.value, "settings", 1, "overdraft=1")
    frame = encode_frame(good.replace("overdraft=1", "overdraft=9"))
    assert m.receive_ir(frame, T0 + H).reply == encode_frame("err auth")
    assert m.settings.overdraft == 2000


def test_replay_is_refused() -> None:
    """The same signed frame again (or an older counter) is ``err replay`` and logged."""
    m = make()
    frame = encode_frame(signed(m.key.value, "settings", 5, "overdraft=10"))
    assert m.receive_ir(frame, T0 + H).reply == encode_frame("ok settings 1")
    assert ir(m, "settings", "overdraft=20", at=T0 + 2 * H, seq=4) == "err replay 5"
    assert m.receive_ir(frame, T0 + 2 * H).reply == encode_frame("err replay 5")
    assert m.settings.overdraft == 10_000
    assert m.events()[-1][0] == LogKind.IR_REPLAY


def test_counter_is_shared_with_the_other_signed_commands() -> None:
    """``settings`` and ``clear_tamper`` count on one counter."""
    m = make()
    assert ir(m, "clear_tamper", at=T0 + H, seq=3) == "ok tamper"
    assert ir(m, "settings", "overdraft=10", at=T0 + H, seq=3) == "err replay 3"
    assert ir(m, "settings", "overdraft=10", at=T0 + H, seq=4) == "ok settings 1"


def test_settings_survive_power_loss() -> None:
    """Kept in the cfg record: a meter rebuilt from its store has them, and the log says so."""
    store = MemoryStateStore()
    m = make(store)
    text = "overdraft=7.5,recharge_limit=none,low_credit_alarm=1,battery_low_1_v=3.30,"
    text += "battery_low_2_v=3.00,auto_clean_days=14"
    assert ir(m, "settings", text, at=T0 + H) == "ok settings 6"
    text = "timezone=Africa/Nairobi,billing_day=10,excess_flow_m3h=6,excess_flow_s=45,"
    text += "leak_flow_m3h=0.004,leak_s=7200"
    assert ir(m, "settings", text, at=T0 + H) == "ok settings 6"
    m.power(False, T0 + 2 * H)
    m.flush()
    again = Meter(m.commissioned, store=store, now=T0 + 3 * H)
    assert again.settings == m.settings
    assert again.config == m.config
    st = again.settings
    assert (st.overdraft, st.recharge_limit, st.low_credit_alarm) == (7500, None, 1000)
    assert st.battery_levels_v == (3.3, 3.0)
    assert (st.valve_clean_days, st.excess_flow_lph, st.excess_flow_s) == (14, 6000, 45)
    assert (st.leak_flow_lph, st.leak_s) == (4, 7200)
    assert (again.config.tz, again.config.billing_day) == ("Africa/Nairobi", 10)
    details = [e.detail for e in again.event_log.entries if e.kind is LogKind.SETTING_CHANGED]
    assert len(details) == 12
    assert "timezone UTC->Africa/Nairobi" in details


def test_all_twelve_do_not_fit_one_frame() -> None:
    """A frame carries at most 200 payload bytes: a full set is sent as two commands
    (each all or none), never cut short."""
    m = make()
    text = ",".join(f"{n}={v}" for n, vals in CASES["accept"].items() for v in list(vals)[:1])
    assert ir(m, "settings", text, at=T0 + H) == "err frame frame too long"
    assert m.lockout.ir_seq == 0


def test_a_meter_without_field_settings_writes_the_old_cfg_bytes() -> None:
    """Until a settings command, the cfg record has no ``lim`` (older readers are unaffected);
    after one it does, and loads back."""
    store = MemoryStateStore()
    m = make(store)
    saved = store.load()
    assert saved is not None
    assert b'"lim"' not in saved["cfg"]
    assert ir(m, "settings", "overdraft=3", at=T0 + H) == "ok settings 1"
    saved = store.load()
    assert saved is not None
    assert b'"lim"' in saved["cfg"]


def test_amount_mode_credit_settings_are_money() -> None:
    """On a money meter the credit settings are money, to 3 places (register 1e-5 units)."""
    m = make(mode="amount")
    assert ir(m, "settings", "overdraft=12.345,low_credit_alarm=50", at=T0 + H) == "ok settings 2"
    assert (m.settings.overdraft, m.settings.low_credit_alarm) == (1_234_500, 5_000_000)
    assert m.event_log.entries[-2].detail == "overdraft 2.000->12.345"


_GOOD = {n: list(vals) for n, vals in CASES["accept"].items()}
_BAD = CASES["refuse"]
_COMMANDS = st.lists(st.sampled_from(SETTING_NAMES), min_size=1, max_size=4, unique=True).flatmap(
    lambda names: st.tuples(
        *(st.tuples(st.just(n), st.sampled_from(_GOOD[n] + _BAD[n])) for n in names)
    )
)


def _held(m: Meter, name: str, value: str) -> bool:
    """The meter now holds ``value`` for ``name`` (compared as numbers where numbers)."""
    now = setting_text(m.settings, m.config.tz, m.config.billing_day, name)
    if value == "none" or name == "timezone":
        return now == value
    return Decimal(now) == Decimal(value)


def _level_alone(name: str, value: str) -> bool:
    """A battery level the case file refuses only against the other level's default
    (``battery_low_2_v=3.40``): in range on its own, so good beside a higher level 1."""
    if not name.startswith("battery_"):
        return False
    try:
        make().settings.parse_field(name, value)
    except SettingsError:
        return False
    return True


@settings(max_examples=60, deadline=None)
@given(_COMMANDS)
def test_any_command_applies_all_or_none(command: tuple[tuple[str, str], ...]) -> None:
    """Whatever mix of good and bad values: every value kept and the counter moved, or the
    meter exactly as before."""
    m = make()
    pairs = list(command)
    values_good = all(v in _GOOD[n] or _level_alone(n, v) for n, v in pairs)
    levels = {"battery_low_1_v": "3.40", "battery_low_2_v": "3.20", **dict(pairs)}
    good = values_good and Decimal(levels["battery_low_2_v"]) < Decimal(levels["battery_low_1_v"])
    before = snapshot(m)
    reply = ir(m, "settings", ",".join(f"{n}={v}" for n, v in pairs), at=T0 + H)
    if good:
        assert reply == f"ok settings {len(pairs)}"
        assert m.lockout.ir_seq == 1
        assert all(_held(m, n, v) for n, v in pairs)
    else:
        assert reply == "err range"
        assert snapshot(m) == before
