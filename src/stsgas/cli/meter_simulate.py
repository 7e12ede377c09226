"""``stsgas meter simulate``: a household meter's years of life, summarised.

Thin: parses arguments, builds a :class:`stsgas.sim.SimConfig`, runs the
fleet runner, prints the summary (text or ``--json``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from stsgas.meter import MeterUsageError
from stsgas.sim import driver
from stsgas.sim.fleet import FleetSummary, StoreFactory, run_fleet, summary_dict
from stsgas.sim.household import SimConfig
from stsgas.sts import BaseDate, MeterConfig, StsError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="stsgas meter simulate",
        description="Simulate household meters over years: consumption, recharges, alarms.",
    )
    p.add_argument("--years", type=int, default=10, help="simulated years per meter (default 10)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--mode", choices=("volume", "amount"), default="volume")
    p.add_argument(
        "--hourly",
        action="store_true",
        help="one consumption event per hour with gas use (default: one per day)",
    )
    p.add_argument("--meters", type=int, default=1, help="fleet size (seeds seed, seed+1, …)")
    p.add_argument("--workers", type=int, default=1, help="processes for a fleet")
    p.add_argument("--config", type=Path, help="JSON file with a scenario 'meter' object")
    nvm = p.add_mutually_exclusive_group()
    nvm.add_argument(
        "--nvm",
        type=Path,
        metavar="FILE",
        help="keep each meter's encrypted NVM in FILE (FILE.N for a fleet); default: in memory",
    )
    nvm.add_argument("--no-nvm", action="store_true", help="no NVM writes (plain memory state)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    return p


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


def main(argv: list[str]) -> int:
    """Run the simulation and print its summary; 2 on bad arguments or config."""
    args = _parser().parse_args(argv)
    if args.years < 1 or args.meters < 1 or args.workers < 1:
        print(
            "stsgas meter simulate: --years, --meters and --workers must be >= 1", file=sys.stderr
        )
        return 2
    meter_json = None
    if args.config is not None:
        try:
            doc = json.loads(args.config.read_text(encoding="utf-8"))
            meter_json = doc.get("meter", doc) if isinstance(doc, dict) else None
            if not isinstance(meter_json, dict):
                raise ValueError("expected a JSON object with a 'meter' object")
            if "mode" not in meter_json:
                meter_json = {**meter_json, "mode": args.mode}
        except (OSError, ValueError) as exc:
            print(f"stsgas meter simulate: {args.config}: {exc}", file=sys.stderr)
            return 2
    mode = meter_json.get("mode", args.mode) if meter_json else args.mode
    cfg = SimConfig(
        years=args.years, seed=args.seed, mode=mode, hourly=args.hourly, meter=meter_json
    )
    why = _past_base_date(cfg)
    if why is not None:
        print(f"stsgas meter simulate: {why}", file=sys.stderr)
        return 2
    factory: StoreFactory | None
    if args.no_nvm:
        factory = None
    elif args.nvm is not None:
        factory = driver.file_store_factory(args.nvm, fleet=args.meters > 1)
    else:
        factory = driver.memory_nvm_store
    try:
        summary: FleetSummary = run_fleet(
            cfg, meters=args.meters, workers=args.workers, store_factory=factory
        )
    except (driver.SetupError, StsError, MeterUsageError) as exc:
        print(f"stsgas meter simulate: {exc}", file=sys.stderr)
        return 2
    doc = summary_dict(summary, mode=mode)
    print(json.dumps(doc, indent=2) if args.json else _text(doc))
    return 0
