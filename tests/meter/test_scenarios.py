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


def test_issue_10_time_power_and_display_points_have_scenarios() -> None:
    """Issue 10 points 8 (time), 9 (LCD), 10 (local time), 12 (power), 13 (query 05)."""
    names = {p.stem for p in SCENARIOS}
    assert {"overdue_timers", "base_date_1993_end", "lcd_after_flow", "local_time_billing_day",
            "emergency_gas_power", "query_price_volume"} <= names  # fmt: skip


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_scenario_is_reviewed_by_hand(path: Path) -> None:
    """Each scenario says who checked its expected report against which rules; the
    runner ignores the note (the report is the same without it)."""
    doc = json.loads(path.read_text())
    assert doc["reviewed"].startswith("Checked by hand")
    bare = {k: v for k, v in doc.items() if k not in ("reviewed", "description")}
    assert run_scenario(bare) == run_scenario(doc)


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_scenario_matches_expected(path: Path) -> None:
    """The scenario's report matches NAME.expected.json."""
    report = run_scenario(json.loads(path.read_text()))
    want = json.loads(path.with_name(path.stem + ".expected.json").read_text())
    assert expected(report) == want
