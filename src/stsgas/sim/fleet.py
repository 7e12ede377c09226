"""Many meters: one household run per seed, summed; the summary the CLI prints.

Runs are independent (one seed each), so a fleet can fan out over processes;
results are merged in seed order, so totals do not depend on scheduling.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from stsgas.meter import StateStore
from stsgas.sim.household import SimConfig, SimResult, simulate
from stsgas.sts import LITRES_PER_M3

__all__ = ["FleetSummary", "StoreFactory", "run_fleet", "summary_dict"]

StoreFactory = Callable[[int], StateStore]


@dataclasses.dataclass(slots=True, kw_only=True)
class FleetSummary:
    """Totals over ``meters`` runs and the wall time they took."""

    meters: int
    result: SimResult
    wall_s: float

    @property
    def meter_years_per_s(self) -> float:
        """Simulated meter-years per wall-clock second."""
        return self.result.years / self.wall_s if self.wall_s > 0 else float("inf")


def _one(args: tuple[SimConfig, int, StoreFactory | None]) -> SimResult:
    cfg, index, factory = args
    run_cfg = dataclasses.replace(cfg, seed=cfg.seed + index)
    store = factory(index) if factory is not None else None
    return simulate(run_cfg, store=store)


def run_fleet(
    cfg: SimConfig,
    *,
    meters: int = 1,
    workers: int = 1,
    store_factory: StoreFactory | None = None,
    on_meter_done: Callable[[], None] | None = None,
) -> FleetSummary:
    """Simulate ``meters`` households (seeds ``cfg.seed``, ``cfg.seed + 1``, …) and sum them.

    Args:
        workers: processes to use (1 runs in this process).
        store_factory: the meter's state store for run ``i`` (None: the meter's default).
        on_meter_done: called after each meter's run (the CLI's progress bar).
    """
    jobs = [(cfg, i, store_factory) for i in range(meters)]
    t0 = time.perf_counter()
    if workers > 1 and meters > 1:
        # imported here: the process pool's modules cost a one-meter run a visible share
        # of its start-up, and it never uses them
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=workers) as pool:
            results = []
            for result in pool.map(_one, jobs):
                results.append(result)
                if on_meter_done is not None:
                    on_meter_done()
    else:
        results = []
        for job in jobs:
            results.append(_one(job))
            if on_meter_done is not None:
                on_meter_done()
    wall = time.perf_counter() - t0
    total = SimResult(years=0)
    for r in results:
        total.merge(r)
    open_n = sum(r.final_valve == "open" for r in results)
    if meters == 1:
        total.final_valve = results[0].final_valve
    else:  # a fleet's valves, counted
        total.final_valve = f"{open_n} open, {meters - open_n} closed"
    return FleetSummary(meters=meters, result=total, wall_s=wall)


def _m3(litres: int) -> str:
    return str(Decimal(litres) / LITRES_PER_M3)


def summary_dict(summary: FleetSummary, *, mode: str) -> dict[str, Any]:
    """The summary as JSON-ready data (decimal strings, never floats for gas or money)."""
    r = summary.result
    return {
        "meters": summary.meters,
        "years": r.years,
        "mode": mode,
        "m3_drawn": _m3(r.litres_drawn),
        "m3_consumed": _m3(r.litres_registered),
        "recharges": r.recharges,
        "recharged": str(r.recharged),
        "tokens_rejected": dict(sorted(r.tokens_rejected.items())),
        "valve_closures": dict(sorted(r.valve_closures.items())),
        "events": dict(sorted(r.events.items())),
        "battery_replacements": r.battery_replacements,
        "final_credit": str(r.final_credit),
        "final_valve": r.final_valve,
        "meter_timers": r.timers,
        "wall_s": round(summary.wall_s, 3),
        "meter_years_per_s": round(summary.meter_years_per_s, 2),
    }
