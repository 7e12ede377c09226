"""Power cut at every NVM write of a settings command and of a leak shut-off (the real
Meter on encrypted NVM): on restart the command is wholly applied with its counter, or
not at all and still accepted; the shut-off latch is there exactly when its log entry is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from stsgas.irproto import encode_frame, signed
from stsgas.meter.events import LogKind
from stsgas.meter.meter import Meter
from stsgas.meter.nvm_store import CipherName

from .test_crash_meter import CIPHERS, T0, H, Plan, _cut_runs, _open, _recharge, _restart

S = timedelta(seconds=1)

TEXT = "overdraft=7,billing_day=15,timezone=Africa/Nairobi,leak_flow_m3h=0.004"


def _frame(m: Meter, seq: int) -> bytes:
    return encode_frame(signed(m.key.value, "settings", seq, TEXT))


def _applied(m: Meter) -> bool:
    st, cfg = m.settings, m.config
    new = (st.overdraft, cfg.billing_day, cfg.tz, st.leak_flow_lph)
    assert new in ((7_000, 15, "Africa/Nairobi", 4), (m.commissioned.overdraft, 1, "UTC", None))
    return new[0] == 7_000


@pytest.mark.parametrize("cipher", CIPHERS)
def test_cut_during_a_settings_command(cipher: CipherName) -> None:
    """All four settings and the counter, or none of them and the frame still good."""

    def prepare(m: Meter) -> None:
        m.flush()

    plan = Plan(prepare=prepare, act=lambda m: m.receive_ir(_frame(m, 1), T0 + H), at=T0 + 2 * H)
    _run, survivors = _cut_runs(plan, cipher)
    seen = set()
    for k, torn, nvm in survivors:
        m = _restart(nvm, cipher, plan.at)
        applied = _applied(m)
        seen.add(applied)
        assert m.lockout.ir_seq == (1 if applied else 0), f"write {k}, torn={torn}"
        logged = [e.detail for e in m.event_log.entries if e.kind is LogKind.SETTING_CHANGED]
        assert len(logged) == (4 if applied else 0)
        again = m.receive_ir(_frame(m, 1), plan.at).reply
        assert again == encode_frame("err replay 1" if applied else "ok settings 4")
        assert _applied(m)
    assert seen == {False, True}


@pytest.mark.parametrize("cipher", CIPHERS)
def test_cut_during_a_leak_shut_off(cipher: CipherName) -> None:
    """The latch, the closed reason and the leak_shutoff entry are committed together."""
    start = T0 + H

    def prepare(m: Meter) -> None:
        leak = encode_frame(signed(m.key.value, "settings", 1, "leak_flow_m3h=0.005,leak_s=600"))
        assert m.receive_ir(leak, start).reply == encode_frame("ok settings 2")
        _recharge(m, "10", start)
        _open(m, start)
        m.flow(1, start + 300 * S)
        m.flush()

    plan = Plan(prepare=prepare, act=lambda m: m.flow(1, start + 600 * S), at=T0 + 3 * H)
    seen = set()
    _run, survivors = _cut_runs(plan, cipher)
    for k, torn, nvm in survivors:
        m = _restart(nvm, cipher, plan.at)
        latched = m.supply.gas is not None
        logged = LogKind.LEAK_SHUTOFF in [e.kind for e in m.event_log.entries]
        assert latched == logged, f"write {k}, torn={torn}"
        seen.add(latched)
        m.open_key(plan.at)
        assert m.valve_open != latched
    assert seen == {False, True}


@pytest.mark.parametrize("cipher", CIPHERS)
def test_cut_during_a_zone_change_that_records_a_month(cipher: CipherName) -> None:
    """A zone ahead across a month end records the month in the same commit as the new zone
    and the month's reset: never the record without the reset (January counted twice)."""
    late = datetime(2035, 1, 31, 20, tzinfo=UTC)  # already 1 February in Tokyo

    def prepare(m: Meter) -> None:
        _recharge(m, "10", T0 + H)
        _open(m, T0 + H)
        m.flow(700, T0 + 2 * H)
        m.flush()

    frame = "timezone=Asia/Tokyo"
    plan = Plan(
        prepare=prepare,
        act=lambda m: m.receive_ir(encode_frame(signed(m.key.value, "settings", 1, frame)), late),
        at=late + H,
    )
    seen = set()
    _run, survivors = _cut_runs(plan, cipher)
    for k, torn, nvm in survivors:
        m = _restart(nvm, cipher, plan.at)
        applied = m.config.tz == "Asia/Tokyo"
        seen.add(applied)
        months = m.monthly_records()
        expect = ([("2035-01", 700)], 0) if applied else ([], 700)
        assert (months, m.balance.month) == expect, f"write {k}, torn={torn}"
    assert seen == {False, True}
