"""Named tests per sheet function, against the Meter API directly."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from stsgas.irproto import encode_frame, mac_for
from stsgas.meter import MemoryStateStore, Meter, MeterUsageError
from stsgas.meter.events import TokenRejected
from stsgas.sts import MeterConfig, clear_credit_token, credit_token, key_change_tokens

from .meter_support import METER, T0, make

H = timedelta(hours=1)


@pytest.fixture
def vend() -> MeterConfig:
    """The vending side's view of the test meter."""
    return MeterConfig.from_json(METER)


def test_recharge_by_volume_adds_litres(vend: MeterConfig) -> None:
    """A gas credit token adds its volume to the credit register."""
    m = make()
    res = m.enter_token(credit_token(vend, "12.5", at=T0 + H).digits, T0 + H)
    assert res.accepted
    assert m.credit == Decimal("12.5")


def test_wrong_key_is_crc_with_status_13(vend: MeterConfig) -> None:
    """A token for another meter key is rejected as crc, IEC status 13, credit unchanged."""
    other = MeterConfig.from_json({**METER, "vending_key": "cdcdcdcdcdcdcdcd"})
    m = make()
    res = m.enter_token(credit_token(other, "5", at=T0 + H).digits, T0 + H)
    rej = [e for e in res if isinstance(e, TokenRejected)]
    assert rej[0].code == "crc"
    assert rej[0].status == 13
    assert m.credit == 0


def test_amount_token_rejected_as_type_in_volume_mode(vend: MeterConfig) -> None:
    """A currency token in a by-volume meter is 'type'."""
    m = make()
    res = m.enter_token(credit_token(vend, "5", at=T0 + H, subclass=6).digits, T0 + H)
    assert res.code == "type"


def test_old_when_memory_full(vend: MeterConfig) -> None:
    """With a full TID memory, a TID older than all remembered is 'old'."""
    m = make(tid_memory=2)
    early = credit_token(vend, "1", at=T0 + H)
    for i in (2, 3):
        assert m.enter_token(credit_token(vend, "1", at=T0 + i * H).digits, T0 + 4 * H).accepted
    assert m.enter_token(early.digits, T0 + 5 * H).code == "old"


def test_clear_credit_zeroes_and_is_accounted(vend: MeterConfig) -> None:
    """Clear credit sets credit to zero and books it as cleared (conservation holds)."""
    m = make()
    m.enter_token(credit_token(vend, "7", at=T0 + H).digits, T0 + H)
    m.enter_token(clear_credit_token(vend, at=T0 + 2 * H).digits, T0 + 2 * H)
    r = m.registers
    assert r.credit == 0
    assert r.recharged == r.credit + r.billed + r.cleared


def test_flow_only_registers_while_open(vend: MeterConfig) -> None:
    """Gas offered with the valve closed is not consumed."""
    m = make()
    m.enter_token(credit_token(vend, "5", at=T0 + H).digits, T0 + H)
    m.flow(1000, T0 + 2 * H)
    assert m.registers.total_l == 0
    m.open_key(T0 + 3 * H)
    m.flow(1000, T0 + 4 * H)
    assert m.registers.total_l == 1000


def test_overdraft_stops_at_limit_and_valve_closes(vend: MeterConfig) -> None:
    """Flow stops exactly at minus the overdraft limit and the valve closes for credit."""
    m = make()
    m.enter_token(credit_token(vend, "1", at=T0 + H).digits, T0 + H)
    m.open_key(T0 + H)
    m.flow(10_000, T0 + 2 * H)
    assert m.credit == Decimal(-2)
    assert not m.valve_open
    assert m.valve_reason == "credit"
    m.open_key(T0 + 3 * H)
    assert not m.valve_open


def test_keypad_backspace_cancel_and_grouping(vend: MeterConfig) -> None:
    """Digits group 4-4-4-4-4 on the LCD; * deletes one, C clears all."""
    m = make()
    for k in "123456":
        m.press(k, T0 + H)
    assert m.lcd == "1234 56"
    m.press("*", T0 + H)
    assert m.lcd == "1234 5"
    m.press("C", T0 + H)
    assert m.lcd.startswith("CR ")


def test_keypad_token_entry_and_digit_timeout(vend: MeterConfig) -> None:
    """A typed token + # is accepted; a half-typed one is cleared by the digit timeout."""
    m = make()
    digits = credit_token(vend, "3", at=T0 + H).digits
    for k in digits[:5]:
        m.press(k, T0 + H)
    deadline = m.next_deadline()
    assert deadline is not None
    assert deadline <= T0 + H + timedelta(seconds=60)
    m.handle_timer(deadline)
    assert m.keybuf == ""
    for k in digits + "#":
        m.press(k, T0 + 2 * H)
    assert m.credit == 3


def test_time_backwards_is_usage_error() -> None:
    """A now earlier than the last one is caller misuse."""
    m = make()
    m.flow(0, T0 + H)
    with pytest.raises(MeterUsageError):
        m.flow(0, T0)


def test_registers_survive_restore(vend: MeterConfig) -> None:
    """A meter rebuilt from its store has the same registers, and its valve starts closed."""
    store = MemoryStateStore()
    m = make(store)
    m.enter_token(credit_token(vend, "9", at=T0 + H).digits, T0 + H)
    m.open_key(T0 + H)
    m.flow(1234, T0 + 2 * H)
    m.flush()
    again = Meter.from_json(METER, store=store, now=T0 + 3 * H)
    assert again.registers == m.registers
    assert not again.valve_open


def test_lockout_persists_across_restart() -> None:
    """The lockout after bad entries lives in the store: a rebuilt meter is still locked."""
    store = MemoryStateStore()
    m = make(store)
    for i in range(3):
        m.enter_token(f"1234567890123456789{i}", T0 + H)
    again = Meter.from_json(METER, store=store, now=T0 + H)
    vend = MeterConfig.from_json(METER)
    assert again.enter_token(credit_token(vend, "1", at=T0 + H).digits, T0 + H).code == "lockout"


def test_consumption_persisted_within_bound(vend: MeterConfig) -> None:
    """Without a flush, at most persist_every_l litres are lost on a power cut."""
    store = MemoryStateStore()
    m = make(store)
    m.enter_token(credit_token(vend, "50", at=T0 + H).digits, T0 + H)
    m.open_key(T0 + H)
    for i in range(1, 100):
        m.flow(7, T0 + H + i * timedelta(minutes=1))
    again = Meter.from_json(METER, store=store, now=T0 + 5 * H)
    assert 0 <= m.registers.total_l - again.registers.total_l < 100


def test_half_key_change_set_forgotten_after_10_minutes(vend: MeterConfig) -> None:
    """A KCT part whose partner comes more than 10 minutes later does not change the key."""
    new = MeterConfig.from_json({**METER, "krn": 2, "vending_key": "cdcdcdcdcdcdcdcd"})
    first, second = (t.digits for t in key_change_tokens(vend, new))
    m = make()
    m.enter_token(second, T0 + H)
    m.enter_token(first, T0 + H + timedelta(minutes=11))
    assert m.key.krn == 1
    m.enter_token(second, T0 + H + timedelta(minutes=12))
    assert m.key.krn == 2


def _signed(m: Meter, payload: str) -> bytes:
    return encode_frame(f"{payload} {mac_for(m.key.value, payload)}")


def test_ir_clear_tamper_needs_valid_mac() -> None:
    """An IR clear-tamper with a wrong MAC is refused; with the key's MAC it clears."""
    m = make()
    m.magnet(True, T0 + H)
    bad = m.receive_ir(encode_frame("clear_tamper 1 0000000000000000"), T0 + H)
    assert bad.reply == encode_frame("err auth")
    assert "tamper" in m.alarms()
    ok = m.receive_ir(_signed(m, "clear_tamper 1"), T0 + H)
    assert ok.reply == encode_frame("ok tamper")
    assert "tamper" not in m.alarms()


def test_recorded_ir_commands_cannot_be_replayed() -> None:
    """A sniffed clear-tamper or clock frame is refused the second time (its counter is
    not above the last accepted one), and the refusal is logged; a fresh counter works."""
    m = make()
    assert m.receive_ir(encode_frame("seq"), T0 + H).reply == encode_frame("ok seq 0")
    m.magnet(True, T0 + H)
    frame = _signed(m, "clear_tamper 1")
    assert m.receive_ir(frame, T0 + H).reply == encode_frame("ok tamper")
    m.magnet(True, T0 + 2 * H)
    replay = m.receive_ir(frame, T0 + 2 * H)
    assert replay.reply == encode_frame("err replay 1")
    assert "tamper" in m.alarms()
    assert m.event_log.entries[-1].kind == "ir_replay"
    # a clock frame replayed cannot wind the RTC back either
    old = _signed(m, "clock 2 2026-01-01T00:00:00Z")
    assert m.receive_ir(old, T0 + 2 * H).reply == encode_frame("ok clock")
    m.receive_ir(_signed(m, "clock 3 2026-06-01T00:00:00Z"), T0 + 2 * H)
    assert m.receive_ir(old, T0 + 2 * H).reply == encode_frame("err replay 3")
    assert m.receive_ir(encode_frame("seq"), T0 + 2 * H).reply == encode_frame("ok seq 3")
    assert m.receive_ir(_signed(m, "clear_tamper 4"), T0 + 2 * H).reply == encode_frame("ok tamper")


def test_ir_counter_survives_a_restore() -> None:
    """The last accepted counter is part of the saved registers, so a power cycle or
    a restore from storage does not reopen old frames."""
    store = MemoryStateStore()
    m = make(store)
    frame = _signed(m, "clear_tamper 7")
    assert m.receive_ir(frame, T0 + H).reply == encode_frame("ok tamper")
    m.flush()
    back = Meter.from_json(METER, store=store, now=T0 + 2 * H)
    assert back.receive_ir(frame, T0 + 2 * H).reply == encode_frame("err replay 7")


def test_ddtk_meter_refuses_credit_but_takes_a_key_change(vend: MeterConfig) -> None:
    """On its default key (key type 1) a meter refuses credit (DDTK, status 12); after a
    key change to a unique key the same customer's credit is accepted."""
    from stsgas.sts import key_change_tokens

    ddtk_cfg = MeterConfig.from_json({**METER, "key_type": 1})
    m = make(key_type=1)
    res = m.enter_token(credit_token(ddtk_cfg, "5", at=T0 + H).digits, T0 + H)
    rej = [e for e in res if isinstance(e, TokenRejected)]
    assert rej[0].code == "ddtk"
    assert rej[0].status == 12
    assert m.credit == 0
    new = MeterConfig.from_json({**METER, "key_type": 2, "krn": 2})
    for n, t in enumerate(key_change_tokens(ddtk_cfg, new)):  # a set within 10 minutes
        assert m.enter_token(t.digits, T0 + 2 * H + n * timedelta(minutes=1)).accepted
    assert m.enter_token(credit_token(new, "5", at=T0 + 9 * H).digits, T0 + 9 * H).accepted
    assert m.credit == Decimal("5")


def test_flow_right_after_opening_closes_the_valve_again(vend: MeterConfig) -> None:
    """M6: gas flowing within a minute of the open key (an appliance left on) re-closes the
    valve with reason 'flow'; the gas that passed is billed; opening with appliances off
    and using gas later keeps it open."""
    m = make()
    m.enter_token(credit_token(vend, "10", at=T0 + H).digits, T0 + H)
    opened = T0 + H + timedelta(minutes=1)
    m.open_key(opened)
    assert m.valve_open
    m.flow(2, opened + timedelta(seconds=20))
    assert not m.valve_open
    assert m.valve_reason == "flow"
    assert m.credit == Decimal("9.998")
    again = opened + timedelta(minutes=5)
    m.open_key(again)
    m.flow(40, again + timedelta(minutes=30))
    assert m.valve_open
    assert m.credit == Decimal("9.958")


def test_valve_actuation_counter_survives_restart(vend: MeterConfig) -> None:
    """M6: every valve move is counted, the count is persisted and query code 26 shows it."""
    store = MemoryStateStore()
    m = make(store)
    m.enter_token(credit_token(vend, "10", at=T0 + H).digits, T0 + H)
    m.open_key(T0 + 2 * H)
    m.set_battery(3.3, T0 + 3 * H)  # level 1 closes the valve once
    assert _ask(m, "26", T0 + 4 * H) == "2"
    again = Meter.from_json({**METER}, store=store, now=T0 + 5 * H)  # restart from NVM
    assert _ask(again, "26", T0 + 5 * H) == "2"


def _ask(m: Meter, code: str, now: datetime) -> str:
    """Type a 2-digit query code and Enter on the keypad; return the answer text."""
    from stsgas.meter.events import QueryAnswered

    for k in code:
        m.press(k, now)
    answers = [e for e in m.press("#", now) if isinstance(e, QueryAnswered)]
    return answers[0].text


def test_ir_step_tariff_waits_for_its_activation_time() -> None:
    """A step tariff loaded by IR is pending until its activation time, then replaces
    the old one (event tariff_changed); before that the old prices apply."""
    m = make()
    old = m.config.tariff
    at = T0 + 5 * H
    reply = m.receive_ir(_signed(m, "tariff 1 2026-01-01T05:00:00Z 10:2.50,20:3.00,-:3.50"), T0 + H)
    assert reply.reply == encode_frame("ok tariff 3 steps")
    assert m.config.tariff == old
    assert m.event_log.entries[-1].kind == "tariff_loaded"
    m.handle_timer(at - timedelta(minutes=1))
    assert m.config.tariff == old
    m.handle_timer(at)
    assert m.config.tariff.to_json() == [
        {"up_to_m3": "10", "price": "2.50"},
        {"up_to_m3": "20", "price": "3.00"},
        {"up_to_m3": None, "price": "3.50"},
    ]
    assert "tariff_changed" in [e.kind for e in m.event_log.entries]


@pytest.mark.parametrize(
    "steps",
    ["", "10", "10:x", "-:1,10:2", "10:1,10:2", ",".join(f"{i}:1" for i in range(1, 12)) + ",-:1"],
)
def test_ir_step_tariff_refuses_bad_steps(steps: str) -> None:
    """Malformed, non-ascending, open-not-last or more than 10 steps: err format,
    nothing pending, the counter not used up."""
    m = make()
    reply = m.receive_ir(_signed(m, f"tariff 1 2026-01-02T00:00:00Z {steps}"), T0 + H)
    assert reply.reply in (encode_frame("err format"), encode_frame("err command"))
    assert m.config.pending is None
    assert m.receive_ir(encode_frame("seq"), T0 + H).reply == encode_frame("ok seq 0")
