"""A household's meter over years: real tokens, conservation, closures, battery, storage."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from stsgas.meter.meter import Meter
from stsgas.sim import driver
from stsgas.sim.fleet import run_fleet
from stsgas.sim.household import HouseholdRun, SimConfig, SimResult, simulate
from stsgas.sim.recharge import LowCreditRecharge, MonthlyRecharge

DAILY = SimConfig(years=2, seed=4, hourly=False)


def test_same_seed_same_life() -> None:
    """Two runs with one seed give identical figures; another seed differs."""
    a = simulate(DAILY)
    b = simulate(DAILY)
    assert dataclasses.asdict(a) == dataclasses.asdict(b)
    assert a.litres_drawn != simulate(dataclasses.replace(DAILY, seed=5)).litres_drawn


def test_volume_is_conserved_and_recharges_are_real_tokens() -> None:
    """Every m³ the tokens credited is either still in credit or was registered as used."""
    run = HouseholdRun(DAILY)
    r = run.run()
    assert r.recharges >= 24  # at least the monthly ones were accepted
    assert r.events["token_accepted"] == r.recharges
    assert r.recharged == r.final_credit + Decimal(r.litres_registered) / 1000
    assert run.meter.registers.total_l == r.litres_registered


def test_amount_mode_bills_money_and_conserves_it() -> None:
    """In amount mode tokens carry money and recharged money = credit left + billed."""
    run = HouseholdRun(dataclasses.replace(DAILY, mode="amount", years=1))
    r = run.run()
    billed = run.meter.fmt(run.meter.registers.billed)
    assert r.recharges > 0
    assert r.recharged == r.final_credit + billed
    assert r.litres_registered > 0


def test_too_little_credit_closes_the_valve_and_stops_gas() -> None:
    """A customer who buys too little a month sees credit closes and gets less gas."""
    cfg = dataclasses.replace(DAILY, policies=(MonthlyRecharge(amount=Decimal(20)),))
    r = simulate(cfg)
    assert r.valve_closures["credit"] >= 12
    assert r.litres_registered < r.litres_drawn / 2


def test_token_over_the_limit_is_kept_and_retried() -> None:
    """Buying far more than used hits the recharge limit; the meter refuses it unburnt."""
    cfg = dataclasses.replace(DAILY, policies=(MonthlyRecharge(amount=Decimal(200)),))
    r = simulate(cfg)
    assert r.tokens_rejected["limit"] > 0
    assert r.final_credit <= 500  # the demo meter's recharge limit


def test_low_credit_policy_tops_up_before_the_valve_closes() -> None:
    """With recharge-when-low only, the valve never closes for credit."""
    cfg = dataclasses.replace(
        DAILY,
        policies=(LowCreditRecharge(amount=Decimal(40), threshold=Decimal(15)),),
        battery=None,
    )
    r = simulate(cfg)
    assert r.recharges > 10
    assert r.valve_closures["credit"] == 0
    # only the first hours, before the first purchase opens the valve, go unregistered
    assert r.litres_registered > 0.99 * r.litres_drawn


def test_battery_runs_down_and_is_replaced() -> None:
    """Over six years the cell reaches level 1, the valve closes once, a new cell goes in."""
    r = simulate(SimConfig(years=6, seed=3, hourly=False))
    assert r.battery_replacements == 1
    assert r.events["battery_low_1"] == 1
    assert r.events["battery_replacement"] == 1
    assert r.valve_closures["battery"] == 1
    assert r.final_valve == "open"


def test_fleet_totals_are_the_sum_of_the_meters() -> None:
    """A fleet of three sums three single runs; two workers give the same totals."""
    cfg = dataclasses.replace(DAILY, years=1)
    single = [simulate(dataclasses.replace(cfg, seed=cfg.seed + i)) for i in range(3)]
    fleet = run_fleet(cfg, meters=3)
    assert fleet.result.years == 3
    assert fleet.result.litres_registered == sum(r.litres_registered for r in single)
    assert fleet.result.recharges == sum(r.recharges for r in single)
    parallel = run_fleet(cfg, meters=3, workers=2)
    assert parallel.result.litres_registered == fleet.result.litres_registered


def test_state_survives_in_the_nvm_file(tmp_path: Path) -> None:
    """After a run on a file store, a meter reopened from the file has the final credit."""
    path = tmp_path / "meter.nvm"
    cfg = dataclasses.replace(DAILY, until=DAILY.start + timedelta(days=40))
    r = simulate(cfg, store=driver.file_store(path, fresh=True))
    assert r.litres_registered > 0
    reopened = Meter.from_json(driver.demo_meter_json(), store=driver.file_store(path), now=cfg.end)
    assert reopened.credit == r.final_credit
    assert reopened.registers.total_l == r.litres_registered


GOLDEN = Path(__file__).parents[1] / "data" / "sim" / "golden-figures.json"


def _figures(r: SimResult) -> dict[str, object]:
    return {
        "litres_drawn": r.litres_drawn,
        "litres_registered": r.litres_registered,
        "recharges": r.recharges,
        "recharged": str(r.recharged),
        "tokens_rejected": dict(r.tokens_rejected),
        "valve_closures": dict(r.valve_closures),
        "events": dict(sorted(r.events.items())),
        "battery_replacements": r.battery_replacements,
        "final_credit": str(r.final_credit),
        "final_valve": r.final_valve,
        "timers": r.timers,
    }


def test_two_years_on_the_sealed_store_give_the_figures_main_gave() -> None:
    """The speed work (issue 15) changed no outcome: the CLI's default household and the
    benchmark's monthly buyer, two hourly years on the encrypted store, end with exactly
    the figures recorded from the code before it (data file)."""
    want = {c["name"]: c["summary"] for c in json.loads(GOLDEN.read_text())["simulate"]}
    monthly = (MonthlyRecharge(amount=Decimal(65)),)
    configs = {
        "cli default": SimConfig(years=2, seed=1, hourly=True),
        "bench monthly": SimConfig(years=2, seed=1, hourly=True, policies=monthly, battery=None),
    }
    for name, cfg in configs.items():
        assert _figures(simulate(cfg, store=driver.memory_nvm_store(0))) == want[name]
