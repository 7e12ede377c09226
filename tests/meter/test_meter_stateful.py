"""Hypothesis stateful test: random event sequences keep the meter's invariants.

Invariants: the valve is never open where a lock holds; volume/money is conserved;
no token is credited twice, across any key change (rollover sets included); a locked
meter answers every entry the same way and changes nothing; no token takes credit
above the recharge limit, and a token is refused for the limit exactly when it would.

CI runs a fixed set of seeds without the example database, so a run is repeatable;
``STSGAS_HYPOTHESIS_EXPLORE=1`` runs the machines with fresh random seeds instead.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import seed, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

import stsgas.sts as sts
from stsgas.meter import MemoryStateStore, Meter
from stsgas.meter.events import Events, TokenRejected
from stsgas.meter.scenario import unchecked_kcts
from stsgas.meter.tariff import money_to_units
from stsgas.sts import (
    MeterConfig,
    clear_tamper_token,
    credit_token,
    encode,
    key_change_tokens,
    next_base_date,
)

from .meter_support import METER, T0

AMOUNT = {**METER, "mode": "amount", "overdraft": "6", "recharge_limit": "1500",
          "low_credit_alarm": "15", "tariff": [{"up_to_m3": "3", "price": "2.37"},
                                               {"up_to_m3": None, "price": "3.11"}]}  # fmt: skip
#: a meter still on base date 1993 in 2021: its rollover key change to 2014 is allowed
ROLLOVER = {**METER, "base_date": 1993}
KEY_CHANGES = ["new_key", "rollover", "same_key_rollover", "to_key_type_0"]
EXPLORE = os.environ.get("STSGAS_HYPOTHESIS_EXPLORE") == "1"
SEEDS = [0, 1, 2, 3, 4, 5, 6, 7]


class MeterMachine(RuleBasedStateMachine):
    """Drives one meter with tokens, key changes, garbage, flow, keys, battery, magnet,
    power and restarts."""

    doc: dict[str, Any] = METER
    t0: datetime = T0

    @initialize()
    def start(self) -> None:
        """A commissioned meter with some credit, auto-clean on, and its vending key."""
        self.store = MemoryStateStore()
        self.doc = {**self.doc, "valve_clean_days": 2, "initial_credit": "20"}
        self.meter = Meter.from_json(self.doc, store=self.store, now=self.t0)
        self.vend = MeterConfig.from_json(self.doc)
        self.now = self.t0
        self.accepted: set[int] = set()
        self.issued: list[str] = []
        self.credited: set[str] = set()

    def _tick(self, minutes: int, seconds: int = 0) -> None:
        self.now += timedelta(minutes=minutes, seconds=seconds)

    def _snapshot(self) -> tuple[Any, ...]:
        m = self.meter
        return m.registers, m.lockout.fail, m.lockout.lock_until, m.key, m.valve_open

    def _enter(self, digits: str, *, test_token: bool = False) -> Events:
        """Enter a token, checking the lockout and recharge-limit invariants around it."""
        m = self.meter
        powered = bool(m.supply.power)
        locked = powered and self.now.timestamp() < m.lockout.lock_until
        before = self._snapshot()
        res = m.enter_token(digits, self.now)
        if not powered:
            assert res.accepted is None
        elif locked and not test_token:  # one answer, nothing evaluated, nothing changed
            assert [(e.code, e.status) for e in res if isinstance(e, TokenRejected)] == [
                ("lockout", 15)
            ]
            assert m.lcd == "Lockout"
            assert self._snapshot() == before
        credit = m.registers.credit
        limit = m.settings.recharge_limit
        if limit is not None and credit > before[0].credit:
            assert credit <= limit  # a token never takes credit over the limit
        return res

    def _credit(self, digits: str, res: Events) -> None:
        """No token's digits are ever credited twice, whatever key changes came between."""
        if res.accepted:
            assert digits not in self.credited
            self.credited.add(digits)

    @rule(amount=st.integers(1, 300), minutes=st.integers(1, 3000))
    def recharge(self, amount: int, minutes: int) -> None:
        """Vend and enter a credit token; an accepted TID is new; the limit decides exactly."""
        self._tick(minutes)
        sub = 2 if self.doc["mode"] == "volume" else 6
        tok = credit_token(self.vend, Decimal(amount), at=self.now, subclass=sub)
        self.issued.append(tok.digits)
        before = self.meter.registers.credit
        res = self._enter(tok.digits)
        self._credit(tok.digits, res)
        if res.accepted:
            assert tok.tid not in self.accepted
            assert tok.tid is not None
            self.accepted.add(tok.tid)
        if res.code == "limit":
            assert self.meter.settings.recharge_limit is not None
            assert before + self._units(tok.amount) > self.meter.settings.recharge_limit

    def _units(self, amount: Decimal | None) -> int:
        assert amount is not None
        return int(amount * 1000) if self.doc["mode"] == "volume" else money_to_units(amount)

    @rule(over=st.booleans(), minutes=st.integers(1, 600))
    def up_to_the_limit(self, over: bool, minutes: int) -> None:
        """A token that fills credit exactly to the limit goes in; one unit more is refused."""
        m = self.meter
        limit = m.settings.recharge_limit
        self._tick(minutes)
        if limit is None or not m.supply.power or self.now.timestamp() < m.lockout.lock_until:
            return
        room = limit - m.registers.credit
        step = 100 if self.doc["mode"] == "volume" else 1000  # 0.1 m3 / 0.01 money
        units = room // step + (1 if over else 0)
        if units <= 0 or (room % step and not over):
            return
        value = Decimal(units) / (10 if step == 100 else 100)
        sub = 2 if self.doc["mode"] == "volume" else 6
        tok = credit_token(self.vend, value, at=self.now, subclass=sub)
        self.issued.append(tok.digits)
        fits = m.registers.credit + self._units(tok.amount) <= limit
        res = self._enter(tok.digits)
        self._credit(tok.digits, res)
        if res.code not in ("used", "old"):
            assert bool(res.accepted) is fits, (res.code, fits)

    @rule(index=st.integers(0, 50), minutes=st.integers(0, 60))
    def replay(self, index: int, minutes: int) -> None:
        """Entering an already-entered token again is never accepted twice."""
        if not self.issued:
            return
        self._tick(minutes)
        digits = self.issued[index % len(self.issued)]
        before = self.meter.registers
        res = self._enter(digits)
        self._credit(digits, res)
        if res.accepted:  # only a token that was refused for the limit may go in later
            assert set(self.meter.registers.tids) - set(before.tids)

    @rule(digits=st.text("0123456789", min_size=20, max_size=20), seconds=st.integers(0, 40))
    def garbage(self, digits: str, seconds: int) -> None:
        """Random digits: a bad entry, or (while locked) the lockout answer."""
        self._tick(0, seconds)
        self._enter(digits)

    @rule(seconds=st.integers(0, 20))
    def test_token(self, seconds: int) -> None:
        """A class 1 test token runs even while locked and changes no register or lock."""
        self._tick(0, seconds)
        before = self._snapshot()
        digits = encode(sts.TestToken(control=1 << 4), self.vend.key())
        res = self._enter(digits, test_token=True)
        if self.meter.supply.power:
            assert res.accepted
            assert self._snapshot()[:4] == before[:4]

    @rule(kind=st.sampled_from(KEY_CHANGES), backwards=st.booleans(), minutes=st.integers(1, 600))
    def key_change(self, kind: str, backwards: bool, minutes: int) -> None:
        """A key change set: a good one is taken; one that keeps the key under RO=1, goes to
        key type 0, or rolls over before the next base date has begun is refused."""
        self._tick(minutes)
        old = self.vend
        krn = old.krn % 9 + 1
        nxt = next_base_date(old.base_date)
        can_roll = nxt is not None and self.now >= nxt.start
        doc = {**self.doc, "base_date": int(old.base_date), "krn": old.krn}
        if kind == "new_key":
            new = MeterConfig.from_json({**doc, "krn": krn})
            sets, valid = [t.digits for t in key_change_tokens(old, new)], True
        elif kind == "rollover" and can_roll:
            assert nxt is not None
            new = MeterConfig.from_json({**doc, "krn": krn, "base_date": int(nxt)})
            sets, valid = [t.digits for t in key_change_tokens(old, new)], True
        elif kind == "rollover":  # what a hostile vendor could send: a rollover too early
            new = MeterConfig.from_json({**doc, "krn": krn})
            sets, valid = unchecked_kcts(old, new, rollover=True), False
        elif kind == "same_key_rollover":
            new = MeterConfig.from_json({**doc, "base_date": int(nxt or old.base_date)})
            sets, valid = unchecked_kcts(old, new, rollover=True), False
        else:
            new = MeterConfig.from_json({**doc, "krn": krn, "key_type": 0})
            sets, valid = unchecked_kcts(old, new, rollover=False), False
        res = Events()
        for digits in reversed(sets) if backwards else sets:
            res = self._enter(digits)
        m = self.meter
        if not m.supply.power or res.code == "lockout":
            return
        assert bool(res.accepted) is valid, res.code
        if valid:
            self.vend = new
            self.doc = {**self.doc, "base_date": int(new.base_date), "krn": new.krn}
            assert m.key.base_date == int(new.base_date)
        else:
            assert res.code == "key_change"

    @rule(litres=st.integers(0, 20_000), minutes=st.integers(1, 2000))
    def flow(self, litres: int, minutes: int) -> None:
        """Offer gas; with the valve closed nothing registers."""
        self._tick(minutes)
        was_open = self.meter.valve_open
        total = self.meter.registers.total_l
        self.meter.flow(litres, self.now)
        if not was_open:
            assert self.meter.registers.total_l == total

    @rule()
    def open_key(self) -> None:
        """Press the open key."""
        self.meter.open_key(self.now)

    @rule(volts=st.sampled_from([3.6, 3.3, 3.1, 3.5]))
    def battery(self, volts: float) -> None:
        """Change the battery voltage; at level 2 the valve is closed at once."""
        self.meter.set_battery(volts, self.now)
        if volts <= self.meter.settings.battery_levels_v[1]:
            assert not self.meter.valve_open

    @rule(then_open=st.booleans())
    def battery_level_2(self, then_open: bool) -> None:
        """The level-2 lock: the battery falls to level 2 and the open key is tried at once;
        the valve stays closed (and stays so until the battery is replaced)."""
        self.meter.set_battery(3.1, self.now)
        assert not self.meter.valve_open
        if then_open:
            self.meter.open_key(self.now)
            assert not self.meter.valve_open

    @rule(on=st.booleans())
    def magnet(self, on: bool) -> None:
        """A magnet comes or goes."""
        self.meter.magnet(on, self.now)

    @rule()
    def clear_tamper(self) -> None:
        """The utility's clear-tamper token."""
        self._tick(1)
        self._enter(clear_tamper_token(self.vend, at=self.now).digits)

    @rule(on=st.booleans())
    def power(self, on: bool) -> None:
        """Power cut or back."""
        self.meter.power(on, self.now)

    @rule(valve_jams=st.booleans())
    def jam(self, valve_jams: bool) -> None:
        """The valve's position switch starts or stops failing to reach 'open'."""
        self.meter.set_valve_fault(valve_jams, False, self.now)

    @rule()
    def restart(self) -> None:
        """Flush and rebuild from the store: registers come back unchanged."""
        self.meter.flush()
        before = self.meter.registers
        faults = set(self.meter.valve_fault)
        self.meter = Meter.from_json(self.doc, store=self.store, now=self.now)
        self.meter.valve_fault |= faults
        assert self.meter.registers == before
        assert not self.meter.valve_open

    @invariant()
    def valve_safe(self) -> None:
        """Never open at/below minus the overdraft, at battery level 2, under tamper, unpowered."""
        m = getattr(self, "meter", None)
        if m is None or not m.valve_open:
            return
        assert m.registers.credit > -m.settings.overdraft
        assert m.supply.bat < 2
        assert not m.supply.tamper
        assert m.supply.power

    @invariant()
    def conserved(self) -> None:
        """Recharged = remaining + billed + cleared, exactly."""
        m = getattr(self, "meter", None)
        if m is not None:
            r = m.registers
            assert r.recharged == r.credit + r.billed + r.cleared
            assert 0 <= r.carry_milli < 1000


class AmountMeterMachine(MeterMachine):
    """The same machine in by-amount mode with a 2-step tariff."""

    doc = AMOUNT


class RolloverMeterMachine(MeterMachine):
    """A meter on base date 1993 in 2021, so a rollover key change to 2014 can happen."""

    doc = ROLLOVER
    t0 = datetime(2021, 3, 1, tzinfo=UTC)


MACHINES: list[type[MeterMachine]] = [MeterMachine, AmountMeterMachine, RolloverMeterMachine]
RUN = settings(
    max_examples=40, stateful_step_count=40, deadline=None, database=None, derandomize=not EXPLORE
)


def _seeded(machine: type[MeterMachine], n: int) -> Callable[[], MeterMachine]:
    def factory() -> MeterMachine:
        return machine()

    return seed(n)(factory) if not EXPLORE else factory


@pytest.mark.parametrize("n", SEEDS)
@pytest.mark.parametrize("machine", MACHINES, ids=lambda m: m.__name__)
def test_meter_machine(machine: type[MeterMachine], n: int) -> None:
    """Each machine under each fixed seed (fresh random seeds with STSGAS_HYPOTHESIS_EXPLORE)."""
    # Hypothesis calls the factory, so any callable works; its annotation only names classes.
    run_state_machine_as_test(_seeded(machine, n), settings=RUN)  # type: ignore[arg-type]
