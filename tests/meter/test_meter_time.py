"""Time never crashes the meter: overdue timers, the base-date end, the clock's range."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from stsgas.irproto import encode_frame, signed
from stsgas.meter import MemoryStateStore, Meter, MeterUsageError
from stsgas.meter.events import Logged
from stsgas.sts import (
    MeterConfig,
    TariffRate,
    credit_token,
    key_change_tokens,
    management_token,
    tid_for,
)

from .meter_support import METER, T0, make

H = timedelta(hours=1)
BD1993 = {**METER, "base_date": 1993}
#: the first minute base date 1993 cannot name (its last one is 2024-11-24 20:15 UTC)
BD1993_END = datetime(2024, 11, 24, 20, 16, tzinfo=UTC)


def _ir(m: Meter, cmd: str, *args: str, at: datetime) -> str:
    seq = m.lockout.ir_seq + 1
    frame = encode_frame(signed(m.key.value, cmd, seq, *args))
    reply = m.receive_ir(frame, at).reply or b""
    return reply[1:-5].decode()


def _wake(m: Meter, until: datetime) -> list[str]:
    """Drive the meter as an adapter does: handle_timer(next_deadline()) up to ``until``."""
    kinds: list[str] = []
    deadline = m.next_deadline()
    while deadline is not None and deadline <= until:
        kinds += [e.type for e in m.handle_timer(deadline) if isinstance(e, Logged)]
        deadline = m.next_deadline()
    return kinds


def test_restart_after_month_boundaries_closes_each_missed_month() -> None:
    """A meter restarted two months later is due at once, never in the past, and
    records every month it slept through."""
    store = MemoryStateStore()
    m = make(store)
    m.put(replace(m.balance, month=700))
    m.flush()
    later = datetime(2026, 3, 2, 9, tzinfo=UTC)
    again = Meter.from_json(METER, store=store, now=later)
    assert again.next_deadline() == later
    _wake(again, later)
    assert again.monthly_records() == [("2026-01", 700), ("2026-02", 0)]
    assert again.next_deadline() == datetime(2026, 4, 1, tzinfo=UTC)


def test_tariff_activated_in_the_past_takes_over_now() -> None:
    """``irpad load-tariff --at now`` reaches the meter a moment late: the tariff is
    loaded, and takes over at the next wake-up, not by raising."""
    m = make(valve_clean_days=0)
    at = T0 + H
    assert _ir(m, "tariff", iso(at - timedelta(seconds=5)), "-:4.00", at=at) == "ok tariff 1 steps"
    assert m.next_deadline() == at
    assert _wake(m, at) == ["tariff_changed"]
    assert m.config.tariff.to_json() == [{"up_to_m3": None, "price": "4.00"}]


def test_clock_and_activation_outside_the_meter_range_are_refused() -> None:
    """An authenticated clock or tariff time the meter's calendar cannot hold is
    ``err range``; the meter keeps its clock and runs on."""
    m = make()
    assert _ir(m, "clock", "9999-12-31T23:59:00Z", at=T0 + H) == "err range"
    assert _ir(m, "tariff", "2100-01-01T00:00:00Z", "-:1", at=T0 + H) == "err range"
    assert _ir(m, "clock", "1992-12-31T23:59:00Z", at=T0 + H) == "err range"
    assert m.rtc(T0 + H) == T0 + H
    assert m.press("0", T0 + 2 * H).code == ""


@pytest.mark.parametrize(
    "now",
    [datetime(2026, 1, 1), datetime(2100, 1, 1, tzinfo=UTC), datetime(1992, 12, 31, tzinfo=UTC)],
    ids=["naive", "after-2099", "before-1993"],
)
def test_a_time_the_meter_cannot_hold_is_a_usage_error(now: datetime) -> None:
    """Caller misuse, told as MeterUsageError, at commissioning and on an input."""
    with pytest.raises(MeterUsageError):
        Meter.from_json(METER, store=MemoryStateStore(), now=now)
    with pytest.raises(MeterUsageError):
        make().flow(0, now)


def test_bd1993_meter_commissioned_after_the_end_runs() -> None:
    """Commissioned after 2024-11-24 20:15 on base date 1993: it starts (empty TID
    memory), logs the end once, answers queries and takes no dated token."""
    vend = MeterConfig.from_json(BD1993)
    start = datetime(2025, 3, 1, tzinfo=UTC)
    m = Meter.from_json({**BD1993, "initial_credit": "3"}, store=MemoryStateStore(), now=start)
    assert m.tids == ()
    assert _wake(m, start) == ["base_date_expired"]
    token = credit_token(vend, "5", at=datetime(2024, 11, 1, tzinfo=UTC))
    res = m.enter_token(token.digits, start + H)
    assert (res.code, m.lcd) == ("expired", "Expired")
    assert m.events()[-1][0] == "token_rejected"
    assert m.press("1", start + 2 * H).code == ""
    assert m.press("7", start + 2 * H).code == ""
    assert m.press("#", start + 2 * H).code == "ok"
    assert m.lcd.endswith(" 1993")
    m.open_key(start + 3 * H)
    m.flow(500, start + 4 * H)
    assert m.registers.total_l == 500


def test_bd1993_end_boundary_last_minute_accepts_next_refuses() -> None:
    """A token entered in the last minute base date 1993 can name is taken; from the
    next minute every TID-bearing token is ``expired`` and the end is logged once."""
    vend = MeterConfig.from_json(BD1993)
    start = datetime(2024, 11, 20, tzinfo=UTC)
    m = Meter.from_json(BD1993, store=MemoryStateStore(), now=start)
    first = credit_token(vend, "1", at=start + H)
    second = credit_token(vend, "1", at=start + 2 * H)
    last = BD1993_END - timedelta(seconds=1)
    assert m.enter_token(first.digits, last).accepted
    res = m.enter_token(second.digits, BD1993_END)
    assert res.code == "expired"
    kinds = [k for k, _ in m.events()]
    assert kinds.count("base_date_expired") == 1
    assert ("base_date_expired", BD1993_END) in m.events()
    _wake(m, BD1993_END + timedelta(days=60))
    assert [k for k, _ in m.events()].count("base_date_expired") == 1


def iso(at: datetime) -> str:
    """Second-precision UTC ISO time, as the IR commands take it."""
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_tariff_token_dated_now_takes_over_without_sending_time_back() -> None:
    """A TariffRate token takes effect at its TID minute, which is the floor of its
    issue time: entered seconds later that minute is already past. The meter asks
    to be woken now, not at the past minute, and the tariff takes over."""
    m = make(mode="amount", tariff=[{"up_to_m3": None, "price": "2.50"}])
    vend = MeterConfig.from_json(METER)
    entered = T0 + H + timedelta(seconds=30)
    token = management_token(vend, TariffRate(tid=tid_for(entered, vend.base_date), rate=400))
    assert m.enter_token(token.digits, entered).accepted
    assert m.next_deadline() == entered
    assert _wake(m, entered) == ["tariff_changed"]
    assert m.tariff.steps[0].price == 400_000


def test_bd1993_meter_past_the_end_can_still_be_moved_by_key_change() -> None:
    """Key change tokens carry no TID, so a meter past its base date's end still takes
    a rollover set to a new key on base date 2014, and then credit vended for it."""
    old = MeterConfig.from_json(BD1993)
    new_doc = {**BD1993, "base_date": 2014, "krn": 2, "vending_key": "cdcdcdcdcdcdcdcd"}
    new = MeterConfig.from_json(new_doc)
    at = datetime(2025, 2, 1, 10, tzinfo=UTC)
    m = Meter.from_json(BD1993, store=MemoryStateStore(), now=datetime(2024, 11, 1, tzinfo=UTC))
    for part in key_change_tokens(old, new, rollover=True):
        assert m.enter_token(part.digits, at).accepted
    assert m.key.base_date == 2014
    assert m.enter_token(credit_token(new, "4", at=at).digits, at + H).accepted
    assert [k for k, _ in m.events()].count("base_date_expired") == 1


def test_a_timer_that_cannot_fire_does_not_hang_the_meter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """If a due timer's condition never holds (here the base-date end, forced false),
    the wake-up returns instead of spinning, and the meter keeps taking inputs."""
    monkeypatch.setattr(Meter, "base_date_ended", lambda self, now: False)
    start = datetime(2025, 3, 1, tzinfo=UTC)
    m = Meter.from_json(BD1993, store=MemoryStateStore(), now=start)
    assert m.handle_timer(start + H) == []
    assert m.press("0", start + 2 * H).code == ""
