"""``stsgas meter`` CLI: run, codes, bad input and lazy subcommands."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from stsgas.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "scenarios" / "recharge_volume.json"


def test_run_prints_report(capsys: pytest.CaptureFixture[str]) -> None:
    """run FILE prints the METER.md report with steps and final."""
    assert main(["meter", "run", str(EXAMPLE)]) == 0
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
    assert main(["meter", "run", "-"]) == 0
    assert json.loads(capsys.readouterr().out)["final"]["total_m3"] == "1.5"


@pytest.mark.parametrize(
    "path", ["missing.json", str(ROOT / "tests" / "data" / "meter" / "bad_meter.json"), __file__]
)
def test_bad_scenario_exit_2_no_traceback(path: str, capsys: pytest.CaptureFixture[str]) -> None:
    """A missing, malformed or non-JSON scenario: one clear line on stderr, exit 2."""
    assert main(["meter", "run", path]) == 2
    err = capsys.readouterr().err
    assert err.startswith("stsgas meter run:")
    assert "Traceback" not in err


def test_codes_lists_at_least_20(capsys: pytest.CaptureFixture[str]) -> None:
    """codes prints the query code table (>= 20 codes)."""
    assert main(["meter", "codes"]) == 0
    lines = capsys.readouterr().out.splitlines()[1:]
    assert len(lines) >= 20
    assert lines[0].startswith("01")


def test_unknown_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown subcommand is exit 2 with usage."""
    assert main(["meter", "frobnicate"]) == 2
    assert "No such command 'frobnicate'" in capsys.readouterr().err


DATA = ROOT / "tests" / "data" / "meter"


@pytest.mark.parametrize(
    ("name", "says"),
    [("scenario-start-2100.json", "start:"), ("scenario-start-year-1.json", "calendar"),
     ("scenario-step-inside-flow.json", "time order"),
     ("scenario-flow-infinite.json", "steps[0]"), ("scenario-unknown-zone.json", "timezone"),
     ("meter-not-object.json", "an object")],
)  # fmt: skip
def test_run_what_cannot_run_is_one_line_exit_2(
    name: str, says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A time out of the meter's range, a step inside the previous one's span, an
    infinite flow, an unknown zone: one line naming the problem, exit 2."""
    assert main(["meter", "run", str(DATA / name)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert says in err
    assert "Traceback" not in err


@pytest.mark.parametrize("command", ["start", "simulate"])
def test_start_and_simulate_refuse_a_meter_that_is_not_an_object(
    command: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """``{"meter": [1]}`` as --config: one line, exit 2 (start used to raise)."""
    extra = ["--nvm", str(tmp_path / "m.nvm")] if command == "start" else ["--years", "1"]
    assert main(["meter", command, "--config", str(DATA / "meter-not-object.json"), *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"stsgas meter {command}: ")
    assert err.count("\n") == 1


def test_run_a_meter_past_its_base_date_end(capsys: pytest.CaptureFixture[str]) -> None:
    """A base-date-1993 meter running past 2024-11-24 20:15 is a report, not an error."""
    path = ROOT / "examples" / "scenarios" / "base_date_1993_end.json"
    assert main(["meter", "run", str(path)]) == 0
    final = json.loads(capsys.readouterr().out)["final"]
    assert "base_date_expired" in [e["type"] for e in final["events"]]
