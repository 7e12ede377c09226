"""Hypothesis stateful test: random event sequences keep the meter's invariants."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from stsgas.meter import MemoryStateStore, Meter
from stsgas.sts import MeterConfig, clear_tamper_token, credit_token

from .meter_support import METER, T0

AMOUNT = {**METER, "mode": "amount", "overdraft": "6", "recharge_limit": "1500",
          "low_credit_alarm": "15", "tariff": [{"up_to_m3": "3", "price": "2.37"},
                                               {"up_to_m3": None, "price": "3.11"}]}  # fmt: skip


class MeterMachine(RuleBasedStateMachine):
    """Drives one meter with tokens, flow, keys, battery, magnet, power and restarts."""

    doc: dict[str, object] = METER

    @initialize()
    def start(self) -> None:
        """A commissioned meter with auto-clean on, and its vending key."""
        self.store = MemoryStateStore()
        self.doc = {**self.doc, "valve_clean_days": 2}
        self.meter = Meter.from_json(self.doc, store=self.store, now=T0)
        self.vend = MeterConfig.from_json(self.doc)
        self.now = T0
        self.accepted: set[int] = set()
        self.issued: list[str] = []

    def _tick(self, minutes: int) -> None:
        self.now += timedelta(minutes=minutes)

    @rule(amount=st.integers(1, 300), minutes=st.integers(1, 3000))
    def recharge(self, amount: int, minutes: int) -> None:
        """Vend and enter a credit token; an accepted TID is new."""
        self._tick(minutes)
        sub = 2 if self.doc["mode"] == "volume" else 6
        tok = credit_token(self.vend, Decimal(amount), at=self.now, subclass=sub)
        self.issued.append(tok.digits)
        res = self.meter.enter_token(tok.digits, self.now)
        if res.accepted:
            assert tok.tid not in self.accepted
            assert tok.tid is not None
            self.accepted.add(tok.tid)

    @rule(index=st.integers(0, 50), minutes=st.integers(0, 60))
    def replay(self, index: int, minutes: int) -> None:
        """Entering an already-entered token again is never accepted twice."""
        if not self.issued:
            return
        self._tick(minutes)
        digits = self.issued[index % len(self.issued)]
        before = self.meter.registers
        res = self.meter.enter_token(digits, self.now)
        if res.accepted:  # only a token that was refused for the limit may go in later
            assert set(self.meter.registers.tids) - set(before.tids)

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
        """Change the battery voltage."""
        self.meter.set_battery(volts, self.now)

    @rule(on=st.booleans())
    def magnet(self, on: bool) -> None:
        """A magnet comes or goes."""
        self.meter.magnet(on, self.now)

    @rule()
    def clear_tamper(self) -> None:
        """The utility's clear-tamper token."""
        self._tick(1)
        self.meter.enter_token(clear_tamper_token(self.vend, at=self.now).digits, self.now)

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
        assert m.r["bat"] < 2
        assert not m.r["tamper"]
        assert m.r["power"]

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


TestVolumeMeter = MeterMachine.TestCase
TestVolumeMeter.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
TestAmountMeter = AmountMeterMachine.TestCase
TestAmountMeter.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
