"""Every example scenario runs and matches its reviewed expected outcome."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from stsgas.meter.scenario import run_scenario

DIR = Path(__file__).resolve().parents[2] / "examples" / "scenarios"
sys.path.insert(0, str(DIR))
from make_expected import expected  # noqa: E402

SCENARIOS = sorted(p for p in DIR.glob("*.json") if not p.name.endswith(".expected.json"))


def test_every_sheet_function_has_a_scenario() -> None:
    """The example set covers the product sheet's functions (one file each)."""
    names = {p.stem for p in SCENARIOS}
    assert {"recharge_volume", "recharge_amount_steps", "recharge_limit", "overdraft_repaid",
            "low_credit_alarm", "valve_auto_clean", "battery_levels", "magnet_tamper",
            "power_off_on", "monthly_records", "hourly_records", "query_codes", "replay_used",
            "key_change_rollover", "lockout"} <= names  # fmt: skip


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_scenario_matches_expected(path: Path) -> None:
    """The scenario's report matches NAME.expected.json."""
    report = run_scenario(json.loads(path.read_text()))
    want = json.loads(path.with_name(path.stem + ".expected.json").read_text())
    assert expected(report) == want
