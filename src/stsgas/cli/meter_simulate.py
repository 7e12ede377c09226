"""``stsgas meter simulate``: a household meter's years of life, summarised.

Thin: takes the options, builds a :class:`stsgas.sim.SimConfig`, runs the
fleet runner under a progress bar (on a terminal), prints the summary (text or
``--json``). The simulator is imported only when the command runs.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from stsgas.cli._bars import progress
from stsgas.cli._errors import fail

if TYPE_CHECKING:
    from stsgas.sim.household import SimConfig


class Mode(StrEnum):
    """What a meter's credit counts."""

    VOLUME = "volume"
    AMOUNT = "amount"


def _text(doc: dict[str, Any]) -> str:
    unit = "m³" if doc["mode"] == "volume" else "money"
    lines = [
        f"meters            {doc['meters']}",
        f"years             {doc['years']} (meter-years)",
        f"m3 consumed       {doc['m3_consumed']} (drawn {doc['m3_drawn']})",
        f"recharges         {doc['recharges']} ({doc['recharged']} {unit})",
        f"tokens rejected   {sum(doc['tokens_rejected'].values())} {doc['tokens_rejected']}",
        f"valve closures    {sum(doc['valve_closures'].values())} {doc['valve_closures']}",
        f"battery changes   {doc['battery_replacements']}",
        "events by type",
        *(f"  {name:<22} {count}" for name, count in doc["events"].items()),
        f"final credit      {doc['final_credit']} {unit}, valve {doc['final_valve']}",
        f"wall time         {doc['wall_s']} s",
        f"meter-years/s     {doc['meter_years_per_s']}",
    ]
    return "\n".join(lines)


def _past_base_date(cfg: SimConfig) -> str | None:
    """Why the run cannot be simulated: it outlives the meter's base date (no token
    could be vended for it after the base date's last minute), else None."""
    from stsgas.sim import driver
    from stsgas.sts import BaseDate, MeterConfig, StsError

    try:
        sts = MeterConfig.from_json(cfg.meter or driver.demo_meter_json(cfg.mode))
    except (StsError, TypeError, ValueError):
        return None  # the run reports the bad meter object itself
    last = BaseDate(sts.base_date).last_minute
    if cfg.end <= last:
        return None
    return (
        f"{cfg.years} years from {cfg.start:%Y-%m-%d} reach {cfg.end:%Y-%m-%d}, past the last "
        f"minute of base date {int(sts.base_date)} ({last:%Y-%m-%d %H:%M} UTC): no token can be "
        "vended for the meter after it; use fewer --years"
    )


def simulate(
    years: Annotated[int, typer.Option("--years", min=1, help="Simulated years per meter.")] = 10,
    seed: Annotated[int, typer.Option("--seed", help="Random seed of the first meter.")] = 0,
    mode: Annotated[
        Mode, typer.Option("--mode", help="What the meter's credit counts.")
    ] = Mode.VOLUME,
    hourly: Annotated[
        bool,
        typer.Option(
            "--hourly", help="One consumption event per hour with gas use (default: per day)."
        ),
    ] = False,
    meters: Annotated[
        int, typer.Option("--meters", min=1, help="Fleet size (seeds seed, seed+1, ...).")
    ] = 1,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Processes for a fleet.")] = 1,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config", help="JSON file with a scenario 'meter' object.", show_default=False
        ),
    ] = None,
    nvm: Annotated[
        Path | None,
        typer.Option(
            "--nvm",
            metavar="FILE",
            help="Keep each meter's encrypted NVM in FILE (FILE.N for a fleet); default: "
            "in memory.",
            show_default=False,
        ),
    ] = None,
    no_nvm: Annotated[
        bool, typer.Option("--no-nvm", help="No NVM writes (plain memory state).")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    from stsgas.cli._errors import read_meter_json
    from stsgas.meter import MeterUsageError
    from stsgas.sim import driver
    from stsgas.sim.fleet import FleetSummary, StoreFactory, run_fleet, summary_dict
    from stsgas.sim.household import SimConfig
    from stsgas.sts import StsError

    if nvm is not None and no_nvm:
        fail("give --nvm FILE or --no-nvm, not both")
    meter_json = None
    if config is not None:
        meter_json = read_meter_json(config)
        if "mode" not in meter_json:
            meter_json = {**meter_json, "mode": mode.value}
    asked = str(meter_json.get("mode", mode.value)) if meter_json else mode.value
    if asked not in ("volume", "amount"):
        fail(f"{config}: the meter's mode must be volume or amount, not {asked!r}")
    chosen: Literal["volume", "amount"] = "amount" if asked == "amount" else "volume"
    cfg = SimConfig(years=years, seed=seed, mode=chosen, hourly=hourly, meter=meter_json)
    why = _past_base_date(cfg)
    if why is not None:
        fail(why)
    factory: StoreFactory | None
    if no_nvm:
        factory = None
    elif nvm is not None:
        factory = driver.file_store_factory(nvm, fleet=meters > 1)
    else:
        factory = driver.memory_nvm_store
    try:
        with progress(f"simulating {meters} × {years} years") as bar:
            task = bar.add_task("simulate", total=meters)
            summary: FleetSummary = run_fleet(
                cfg,
                meters=meters,
                workers=workers,
                store_factory=factory,
                on_meter_done=lambda: bar.advance(task),
            )
    except (driver.SetupError, StsError, MeterUsageError) as exc:
        fail(str(exc))
    out = summary_dict(summary, mode=chosen)
    print(json.dumps(out, indent=2) if as_json else _text(out))
