"""Write NAME.expected.json beside each scenario: the report fields its test checks.

Run after changing a scenario, then READ the diff: an expected file is a
reviewed statement of what the meter must do, not a snapshot to refresh blindly.
    python examples/scenarios/make_expected.py
"""

from __future__ import annotations

import json
from pathlib import Path

from stsgas.meter.scenario import run_scenario

STEP_KEYS = ("accepted", "code", "lcd", "credit", "valve", "valve_reason")
FINAL_KEYS = ("credit", "valve", "valve_reason", "lcd", "total_m3", "month_m3", "overdraft_used",
              "alarms", "monthly")  # fmt: skip


def expected(report: dict[str, object]) -> dict[str, object]:
    """The checked subset of a report."""
    steps = report["steps"]
    final = report["final"]
    assert isinstance(steps, list)
    assert isinstance(final, dict)
    out = {k: final[k] for k in FINAL_KEYS}
    out["event_types"] = [e["type"] for e in final["events"]]
    return {"steps": [{k: s[k] for k in STEP_KEYS} for s in steps], "final": out}


def main() -> None:
    """Regenerate every expected file."""
    here = Path(__file__).parent
    for path in sorted(here.glob("*.json")):
        if path.name.endswith(".expected.json"):
            continue
        report = run_scenario(json.loads(path.read_text()))
        target = path.with_name(path.stem + ".expected.json")
        target.write_text(json.dumps(expected(report), indent=1) + "\n")


if __name__ == "__main__":
    main()
