"""``stsgas meter simulate`` prints a summary of a meter's simulated life and exits 0."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stsgas.cli import main

DATA = Path(__file__).resolve().parent.parent / "data" / "sim"


def test_json_summary_has_the_figures(capsys: pytest.CaptureFixture[str]) -> None:
    """--json gives years, m³, recharges, rejections, closures, events, credit and speed."""
    assert main(["meter", "simulate", "--years", "2", "--seed", "3", "--json", "--no-nvm"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["years"] == 2
    assert doc["recharges"] > 20
    assert float(doc["m3_consumed"]) > 1000
    assert {"tokens_rejected", "valve_closures", "events", "final_credit"} <= doc.keys()
    assert doc["events"]["token_accepted"] == doc["recharges"]
    assert doc["meter_years_per_s"] > 0


def test_text_summary_and_amount_mode_from_a_config(capsys: pytest.CaptureFixture[str]) -> None:
    """A config file's amount-mode meter is simulated; the text summary names each figure."""
    assert (
        main(["meter", "simulate", "--years", "1", "--config", str(DATA / "amount-meter.json")])
        == 0
    )
    out = capsys.readouterr().out
    for label in (
        "m3 consumed",
        "recharges",
        "tokens rejected",
        "valve closures",
        "final credit",
        "wall time",
        "meter-years/s",
    ):
        assert label in out
    assert "money" in out


def test_nvm_file_is_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--nvm FILE keeps the meter's encrypted state in that file."""
    path = tmp_path / "sim.nvm"
    assert main(["meter", "simulate", "--years", "1", "--nvm", str(path), "--json"]) == 0
    assert path.stat().st_size > 0
    assert b"token_accepted" not in path.read_bytes()  # sealed, not plain JSON
    capsys.readouterr()


@pytest.mark.parametrize(
    "argv",
    [["--years", "0"], ["--config", "/nonexistent/meter.json"], ["--mode", "gold"]],
)
def test_bad_arguments_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """Bad options or an unreadable config file exit with status 2 and a message."""
    assert main(["meter", "simulate", *argv]) == 2
    assert capsys.readouterr().err


def test_a_run_past_the_base_date_is_one_line_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    """30 years from 2026 pass base date 2014's last minute (2045-11-24 20:15): no token
    could be vended, so the run is refused up front with one line, not a traceback."""
    assert main(["meter", "simulate", "--years", "30", "--no-nvm"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "base date 2014" in err
