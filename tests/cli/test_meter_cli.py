"""``stsgas meter`` CLI: run, codes, bad input and lazy subcommands."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from stsgas.cli.meter import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "scenarios" / "recharge_volume.json"


def test_run_prints_report(capsys: pytest.CaptureFixture[str]) -> None:
    """run FILE prints the METER.md report with steps and final."""
    assert main(["run", str(EXAMPLE)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["final"]["credit"] == "8.5"
    assert {"accepted", "code", "lcd", "credit", "valve", "valve_reason"} <= report["steps"][
        0
    ].keys()


def test_run_reads_stdin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """run - reads the scenario from stdin."""
    monkeypatch.setattr("sys.stdin", io.StringIO(EXAMPLE.read_text()))
    assert main(["run", "-"]) == 0
    assert json.loads(capsys.readouterr().out)["final"]["total_m3"] == "1.5"


@pytest.mark.parametrize(
    "path", ["missing.json", str(ROOT / "tests" / "data" / "meter" / "bad_meter.json"), __file__]
)
def test_bad_scenario_exit_2_no_traceback(path: str, capsys: pytest.CaptureFixture[str]) -> None:
    """A missing, malformed or non-JSON scenario: one clear line on stderr, exit 2."""
    assert main(["run", path]) == 2
    err = capsys.readouterr().err
    assert err.startswith("stsgas meter run:")
    assert "Traceback" not in err


def test_codes_lists_at_least_20(capsys: pytest.CaptureFixture[str]) -> None:
    """codes prints the query code table (>= 20 codes)."""
    assert main(["codes"]) == 0
    lines = capsys.readouterr().out.splitlines()[1:]
    assert len(lines) >= 20
    assert lines[0].startswith("01")


def test_unknown_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown subcommand is exit 2 with usage."""
    assert main(["frobnicate"]) == 2
    assert "usage" in capsys.readouterr().err
