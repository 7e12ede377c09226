"""One household and its meter over years: draws, recharges, battery life, the customer's hands.

The runner owns nothing of the meter's rules: it feeds the meter events at
their times (gas drawn, tokens typed, battery voltage, the open key) and
watches what the meter does (valve state and reason, token results, events).
The customer behaves plausibly: buys gas by the chosen policy with a real
STS token for the meter's key, presses the open key after a close it may
reopen, keeps a token the meter refused for its recharge limit and tries it
again days later, and replaces the battery some days after its first alarm.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from stsgas.meter import StateStore
from stsgas.meter.events import Events
from stsgas.meter.meter import Meter
from stsgas.sim import driver
from stsgas.sim.profiles import HouseholdProfile, draw_pairs
from stsgas.sim.recharge import LowCreditRecharge, MonthlyRecharge, RechargePolicy
from stsgas.sim.timeline import Timeline, run_until
from stsgas.sts import MeterConfig, StsError, credit_token

__all__ = ["BatteryModel", "HouseholdRun", "SimConfig", "SimResult", "simulate"]

Mode = Literal["volume", "amount"]
#: m³ → money for the default purchases in amount mode (about the demo tariff's price).
_PRICE = Decimal(3)
#: closes the customer undoes with the open key (credit closes wait for a recharge)
_REOPENABLE = frozenset({"battery", "manual", "clean", "power"})


@dataclass(frozen=True, slots=True, kw_only=True)
class BatteryModel:
    """A lithium cell: ``volts`` new, losing ``drain_v_per_year``; replaced after an alarm."""

    volts: float = 3.6
    drain_v_per_year: float = 0.045
    replace_after: timedelta = timedelta(days=10)


def _default_policies() -> tuple[RechargePolicy, ...]:
    return (
        MonthlyRecharge(amount=Decimal(60)),
        LowCreditRecharge(amount=Decimal(30), threshold=Decimal(2)),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class SimConfig:
    """What to simulate. Policy amounts are m³; amount mode multiplies them by a price."""

    years: int = 10
    seed: int = 0
    mode: Mode = "volume"
    hourly: bool = True
    start: datetime = datetime(2026, 1, 1, tzinfo=UTC)
    profile: HouseholdProfile = field(default_factory=HouseholdProfile)
    policies: tuple[RechargePolicy, ...] = field(default_factory=_default_policies)
    battery: BatteryModel | None = field(default_factory=BatteryModel)
    meter: dict[str, Any] | None = None  #: scenario "meter" object; default: the demo meter
    until: datetime | None = None  #: stop here instead of after ``years`` (short runs)

    @property
    def end(self) -> datetime:
        """The first instant not simulated."""
        return self.until or self.start.replace(year=self.start.year + self.years)


@dataclass(slots=True, kw_only=True)
class SimResult:
    """What happened, in the figures the summary prints."""

    years: int
    litres_drawn: int = 0
    litres_registered: int = 0
    recharges: int = 0
    recharged: Decimal = Decimal(0)
    tokens_rejected: Counter[str] = field(default_factory=Counter)
    valve_closures: Counter[str] = field(default_factory=Counter)
    events: Counter[str] = field(default_factory=Counter)
    battery_replacements: int = 0
    final_credit: Decimal = Decimal(0)
    final_valve: str = "open"
    timers: int = 0

    def merge(self, other: SimResult) -> None:
        """Add ``other``'s counts to this one (fleet totals)."""
        self.years += other.years
        self.litres_drawn += other.litres_drawn
        self.litres_registered += other.litres_registered
        self.recharges += other.recharges
        self.recharged += other.recharged
        self.tokens_rejected += other.tokens_rejected
        self.valve_closures += other.valve_closures
        self.events += other.events
        self.battery_replacements += other.battery_replacements
        self.final_credit += other.final_credit
        self.timers += other.timers


class HouseholdRun:
    """One meter, one household, one seed: build with a store, then :meth:`run`."""

    def __init__(self, cfg: SimConfig, *, store: StateStore | None = None) -> None:
        self.cfg = cfg
        self.rng = random.Random(cfg.seed ^ 0x5EED)
        meter_json = cfg.meter if cfg.meter is not None else driver.demo_meter_json(cfg.mode)
        try:
            self.sts = MeterConfig.from_json(meter_json)
        except StsError as exc:
            raise driver.SetupError(f"meter: {exc}") from exc
        self.meter: Meter = driver.make_meter(meter_json, now=cfg.start, store=store)
        self.result = SimResult(years=cfg.years)
        self.timeline = Timeline()
        self.scale = _PRICE if cfg.mode == "amount" else Decimal(1)
        self.subclass = 6 if cfg.mode == "amount" else 2
        self.monthly = [p for p in cfg.policies if isinstance(p, MonthlyRecharge)]
        self.low = [p for p in cfg.policies if isinstance(p, LowCreditRecharge)]
        self.low_pending = False
        self.volts = cfg.battery.volts if cfg.battery else 3.6
        self.replacing = False
        self._draws: Iterator[tuple[datetime, int]] = iter(())
        self._pending_litres = 0

    # ---- the customer's actions -------------------------------------------------------
    def _schedule_next_draw(self) -> None:
        # one draw on the heap at a time: a decade of hours never sits in memory
        draw = next(self._draws, None)
        if draw is not None:
            self._pending_litres = draw[1]
            self.timeline.schedule(draw[0], self._draw)

    def _draw(self, at: datetime) -> None:
        litres = self._pending_litres
        self.result.litres_drawn += litres
        self._seen(at, self.meter.flow(litres, at))
        if self.low and not self.low_pending:
            policy = self.low[0]
            if policy.wants_more(self.meter.credit / self.scale):
                self.low_pending = True
                self.timeline.schedule(at + policy.delay, self._buy_low)
        self._schedule_next_draw()

    def _buy_low(self, at: datetime) -> None:
        self.low_pending = False
        self._buy(at, self.low[0].amount)

    def _buy_monthly(self, at: datetime) -> None:
        policy = self.monthly[0]
        self._buy(at, policy.amount)
        nxt = policy.next_planned(at)
        if nxt is not None:
            self.timeline.schedule(nxt, self._buy_monthly)

    def _buy(self, at: datetime, m3: Decimal) -> None:
        issued = credit_token(
            self.sts, m3 * self.scale, at=at, rnd=self.rng.randrange(16), subclass=self.subclass
        )
        self._enter(at, issued.digits, issued.amount or Decimal(0), tries=3)

    def _enter(self, at: datetime, digits: str, amount: Decimal, *, tries: int) -> None:
        out = self.meter.enter_token(digits, at)
        self._seen(at, out)
        if out.accepted:
            self.result.recharges += 1
            self.result.recharged += amount
            if not self.meter.valve_open:
                self.timeline.schedule(at + timedelta(minutes=1), self._open_key)
            return
        self.result.tokens_rejected[out.code or "unknown"] += 1
        if out.code == "limit" and tries > 1:  # the token stays unused: keep it, try again
            self.timeline.schedule(
                at + timedelta(days=3), lambda t: self._enter(t, digits, amount, tries=tries - 1)
            )

    def _open_key(self, at: datetime) -> None:
        self._seen(at, self.meter.open_key(at))

    def _battery(self, at: datetime) -> None:
        battery = self.cfg.battery
        assert battery is not None
        self.volts = max(2.8, self.volts - battery.drain_v_per_year / 12)
        self._seen(at, self.meter.set_battery(self.volts, at))
        if driver.battery_alarm(self.meter) and not self.replacing:
            self.replacing = True
            self.timeline.schedule(at + battery.replace_after, self._replace_battery)
        self.timeline.schedule(at + timedelta(days=30), self._battery)

    def _replace_battery(self, at: datetime) -> None:
        battery = self.cfg.battery
        assert battery is not None
        self._seen(at, self.meter.power(False, at))
        self.volts = battery.volts
        back = at + timedelta(minutes=5)
        self._seen(back, self.meter.set_battery(self.volts, back))
        self._seen(back, self.meter.power(True, back))
        self.result.battery_replacements += 1
        self.replacing = False
        self.timeline.schedule(back + timedelta(minutes=1), self._open_key)

    # ---- watching the meter -----------------------------------------------------------
    def _seen(self, at: datetime, out: Events) -> None:
        if not out:
            return
        for reason in driver.tally(out, self.result.events):
            self.result.valve_closures[reason] += 1
            if reason in _REOPENABLE:
                self.timeline.schedule(at + timedelta(minutes=30), self._open_key)

    def _after_timer(self, at: datetime, out: object) -> None:
        if isinstance(out, Events):
            self._seen(at, out)

    def run(self) -> SimResult:
        """Simulate from ``cfg.start`` to ``cfg.end`` and return the figures."""
        cfg = self.cfg
        total_before = self.meter.registers.total_l
        self._draws = draw_pairs(
            cfg.profile, start=cfg.start, end=cfg.end, seed=cfg.seed, hourly=cfg.hourly
        )
        self._schedule_next_draw()
        for policy in self.monthly:
            self.timeline.schedule(cfg.start.replace(hour=policy.hour), self._buy_monthly)
        if cfg.battery is not None:
            self.timeline.schedule(cfg.start + timedelta(days=14, hours=3), self._battery)
        self.result.timers = run_until(
            self.meter, self.timeline, cfg.end, after_timer=self._after_timer
        )
        self.meter.flush()
        self.result.litres_registered = self.meter.registers.total_l - total_before
        self.result.final_credit = self.meter.credit
        self.result.final_valve = "open" if self.meter.valve_open else "closed"
        return self.result


def simulate(cfg: SimConfig, *, store: StateStore | None = None) -> SimResult:
    """Run one household's meter for ``cfg.years`` and return the summary figures."""
    return HouseholdRun(cfg, store=store).run()
