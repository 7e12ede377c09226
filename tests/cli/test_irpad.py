"""``stsgas irpad`` against a virtual meter on a real pty: replies and exit codes."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from stsgas.cli import main
from stsgas.irlink import open_pty_pair
from stsgas.irproto import mac_for
from stsgas.meter.adapters.tui_view import PanelView
from stsgas.meter.demo import demo_meter_json
from stsgas.sts import MeterConfig, credit_token
from tests.irlink.served_meter import T0, Served, serve_demo_meter
from tests.processes import spawn, stop


@pytest.fixture
def served() -> Iterator[Served]:
    """The demo meter served on a pty."""
    with serve_demo_meter() as s:
        yield s


def test_token_then_query(served: Served, capsys: pytest.CaptureFixture[str]) -> None:
    """A grouped token is accepted (exit 0), its replay refused (exit 1); a query answers."""
    issued = credit_token(served.config, "7", at=T0 + timedelta(minutes=2), rnd=1)
    assert main(["irpad", "--port", served.path, "token", issued.grouped.replace(" ", "-")]) == 0
    assert capsys.readouterr().out.strip() == "ok accept"
    assert main(["irpad", "--port", served.path, "token", issued.digits]) == 1
    assert capsys.readouterr().out.strip() == "err used"
    assert main(["irpad", "--port", served.path, "query", "01"]) == 0
    assert capsys.readouterr().out.startswith("ok ")


def test_set_clock_with_the_key(served: Served, capsys: pytest.CaptureFixture[str]) -> None:
    """set-clock with the meter's key is accepted; without a key it is a usage error."""
    key = served.config.key().value.hex()
    assert (
        main(["irpad", "--port", served.path, "--key", key, "set-clock", "2026-03-01T10:00:00Z"])
        == 0
    )
    assert capsys.readouterr().out.strip() == "ok clock"
    assert main(["irpad", "--port", served.path, "set-clock"]) == 2
    assert "--key" in capsys.readouterr().err


def test_unknown_command_errs(served: Served, capsys: pytest.CaptureFixture[str]) -> None:
    """A payload the meter does not know gets ``err command`` and exit 1."""
    assert main(["irpad", "--port", served.path, "raw", "reboot now"]) == 1
    assert capsys.readouterr().out.strip() == "err command"


def test_silent_port_times_out(capsys: pytest.CaptureFixture[str]) -> None:
    """No meter on the line: exit 3 after the timeout, with a message."""
    with open_pty_pair() as pty:
        assert main(["irpad", "--port", pty.path, "--timeout", "0.2", "query", "01"]) == 3
    assert "no reply" in capsys.readouterr().err


def test_missing_port_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """A device path that does not exist exits 2 with a message."""
    assert main(["irpad", "--port", "/dev/does-not-exist", "query", "01"]) == 2
    assert "cannot open" in capsys.readouterr().err


def test_headless_meter_start_serves_ir_and_keeps_state(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`stsgas meter start --ir-pty --headless` prints its pty; a token sent there persists;
    SIGTERM (how systemd or `kill` stop it) ends it cleanly, exit 0."""
    nvm = tmp_path / "meter.nvm"
    proc = spawn(
        [
            sys.executable,
            "-m",
            "stsgas",
            "meter",
            "start",
            "--ir-pty",
            "--headless",
            "--nvm",
            str(nvm),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("IR port: ")
        port = line.split(": ", 1)[1].strip()
        cfg = MeterConfig.from_json(demo_meter_json())
        issued = credit_token(cfg, "4", at=datetime.now(UTC) + timedelta(minutes=2), rnd=9)
        assert main(["irpad", "--port", port, "token", issued.digits]) == 0
        assert capsys.readouterr().out.strip() == "ok accept"
    finally:
        _, err = stop(proc)
    assert proc.returncode == 0, err
    view = PanelView.open(demo_meter_json(), nvm_path=nvm, now=datetime.now(UTC))
    assert view.meter.credit == 4
    view.close()


def test_load_tariff_then_replay_refused(
    served: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    """load-tariff with the key is accepted and pending; the same frame sent raw again
    (a recorded one) is refused as a replay; a malformed step list is a format error."""
    key = served.config.key().value.hex()
    args = ["--port", served.path, "--key", key]
    assert (
        main(["irpad", *args, "load-tariff", "10:2.50,-:3.10", "--at", "2030-01-01T00:00:00Z"]) == 0
    )
    assert capsys.readouterr().out.strip() == "ok tariff 2 steps"
    pending = served.meter.config.pending
    assert pending is not None
    assert pending.tariff.to_json() == [
        {"up_to_m3": "10", "price": "2.50"},
        {"up_to_m3": None, "price": "3.10"},
    ]
    assert main(["irpad", *args, "load-tariff", "10:2.50,5:3.10"]) == 1  # tops must ascend
    assert capsys.readouterr().out.strip() == "err format"
    # a recorded frame (counter 1 was used above) cannot be replayed
    payload = "tariff 1 2030-01-01T00:00:00Z 10:9.99,-:9.99"
    signed = f"{payload} {mac_for(bytes.fromhex(key), payload)}"
    assert main(["irpad", "--port", served.path, "raw", signed]) == 1
    assert capsys.readouterr().out.strip().startswith("err replay")


@pytest.mark.parametrize("form", ["words", "one-arg", "dashes"])
def test_token_as_printed_by_stsgas_token_credit(
    served: Served, capsys: pytest.CaptureFixture[str], form: str
) -> None:
    """The token as ``stsgas token credit`` prints it (4-4-4-4-4 with spaces), typed
    unquoted (five words), quoted (one word) or with dashes, is the same token."""
    issued = credit_token(served.config, "3", at=T0 + timedelta(minutes=3), rnd=4)
    words = {"words": issued.grouped.split(), "one-arg": [issued.grouped],
             "dashes": [issued.grouped.replace(" ", "-")]}[form]  # fmt: skip
    assert " " in issued.grouped
    assert main(["irpad", "--port", served.path, "token", *words]) == 0
    assert capsys.readouterr().out.strip() == "ok accept"


def test_load_tariff_activated_in_the_past_keeps_the_meter_serving(
    served: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    """A tariff whose activation time has passed (``--at now`` from a pad whose clock
    is ahead of the meter's) takes over at once; the meter keeps answering."""
    key = served.config.key().value.hex()
    args = ["--port", served.path, "--key", key]
    assert (
        main(["irpad", *args, "load-tariff", "--at", "2026-01-01T00:00:00Z", "--", "-:4.20"]) == 0
    )
    assert capsys.readouterr().out.strip() == "ok tariff 1 steps"
    assert main(["irpad", "--port", served.path, "query", "14"]) == 0
    assert capsys.readouterr().out.strip() == "ok -:4.20"
    assert main(["irpad", "--port", served.path, "query", "05"]) == 0
    assert capsys.readouterr().out.strip() == "ok step 1 4.20/m3"
