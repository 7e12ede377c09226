"""``stsgas irpad readout``: a meter's readout over a real pty saved as JSON or CSV."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from stsgas.cli import main
from stsgas.meter.demo import demo_meter_json
from stsgas.meter.readout import FORMAT, Readout, take_readout
from tests.irlink.optical_meter import ServedPort, serve_optical
from tests.meter.readout_support import T0, key_of, make, readout_json
from tests.processes import spawn, stop

H = timedelta(hours=1)


@pytest.fixture
def served() -> Iterator[ServedPort]:
    """A meter with two months, some hours and a tamper event, on a pty."""
    m = make()
    for day in range(40):
        m.flow(300 + day, T0 + timedelta(days=day, hours=7))
    m.magnet(True, T0 + timedelta(days=40))
    with serve_optical(m, T0 + timedelta(days=40, hours=1)) as s:
        yield s


def _args(served: ServedPort, *more: str) -> list[str]:
    return ["irpad", "--port", served.path, "--key", key_of(readout_json()).hex(), *more]


def test_readout_to_json_is_the_contract_document(
    served: ServedPort, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The JSON file is stsgas-readout/1 with exactly what the meter holds; the summary
    line counts it and gives the bytes and seconds on the wire."""
    out = tmp_path / "meter.json"
    assert main(_args(served, "readout", "--out", str(out))) == 0
    said = capsys.readouterr().out
    assert said.startswith("ok readout 600727000000000009: 1 month, 40 hours, ")
    assert "s at 9600 Bd" in said
    doc = json.loads(out.read_text())
    assert doc["format"] == FORMAT
    assert set(doc) == {
        "format", "meter_number", "read_at", "mode", "registers", "settings", "monthly",
        "hourly", "events",
    }  # fmt: skip
    assert doc["settings"]["timezone"] == "Africa/Nairobi"
    assert doc["settings"]["billing_day"] == 1
    assert doc["registers"]["valve"] == "closed"
    assert doc["events"][-1]["code"] == "magnetic_interference"
    got = Readout.from_json(doc)
    want = take_readout(served.meter, got.read_at)
    assert got == want


def test_readout_to_csv_by_suffix_or_format(
    served: ServedPort, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A .csv name (or --format csv) writes rows section,name,time,value."""
    out = tmp_path / "meter.csv"
    assert main(_args(served, "readout", "--out", str(out))) == 0
    rows = list(csv.reader(io.StringIO(out.read_text())))
    assert rows[0] == ["section", "name", "time", "value"]
    assert ["setting", "timezone", "", "Africa/Nairobi"] in rows
    assert sum(1 for r in rows if r[0] == "hourly") == 40
    other = tmp_path / "meter.txt"
    assert main(_args(served, "readout", "--out", str(other), "--format", "csv")) == 0
    assert other.read_text().startswith("section,name,time,value\n")


def test_wrong_key_refused_and_nothing_written(
    served: ServedPort, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Another key: exit 1 with a one-line reason, no file; the meter logged it."""
    out = tmp_path / "meter.json"
    args = ["irpad", "--port", served.path, "--key", "00" * 8, "readout", "--out", str(out)]
    assert main(args) == 1
    assert "refused the password" in capsys.readouterr().err
    assert not out.exists()
    assert served.meter.event_log.entries[-1].kind == "readout_refused"


def test_usage_errors(
    served: ServedPort, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No key, or a file name that says no format: exit 2 before the meter is asked."""
    no_key = ["irpad", "--port", served.path, "readout", "--out", str(tmp_path / "a.json")]
    assert main(no_key) == 2
    assert "--key" in capsys.readouterr().err
    assert main(_args(served, "readout", "--out", str(tmp_path / "a.txt"))) == 2
    assert "--format" in capsys.readouterr().err
    assert served.meter.lockout.ir_seq == 0


def test_terminal_meter_serves_the_readout_beside_ir_frames(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`stsgas meter start --ir-pty --headless` answers the 62056-21 sign-on on its pty
    (the readout, key from --config) and today's STX query on the same pty."""
    config = tmp_path / "meter.json"
    config.write_text(json.dumps({"meter": demo_meter_json()}))
    proc = spawn(
        [sys.executable, "-m", "stsgas", "meter", "start", "--ir-pty", "--headless",
         "--nvm", str(tmp_path / "meter.nvm")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        port = proc.stdout.readline().split(": ", 1)[1].strip()
        out = tmp_path / "read.json"
        started = datetime.now(UTC)
        args = ["irpad", "--port", port, "--config", str(config), "readout", "--out", str(out)]
        assert main(args) == 0, capsys.readouterr().err
        assert main(["irpad", "--port", port, "query", "06"]) == 0
        assert capsys.readouterr().out.strip().endswith("ok 600727000000000009")
    finally:
        _, err = stop(proc)
    assert proc.returncode == 0, err
    doc = json.loads(out.read_text())
    assert doc["meter_number"] == "600727000000000009"
    assert abs(datetime.fromisoformat(doc["read_at"]) - started) < timedelta(minutes=1)
