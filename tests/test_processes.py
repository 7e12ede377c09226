"""Every process the suite starts stops on SIGTERM and is reaped, whatever signals it inherited.

The suite may run as a background job (SIGINT ignored, as under ``nohup`` or
some CI runners); a child that inherits the ignore and is stopped with SIGINT
outlives the run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.processes import spawn, stop

ROOT = Path(__file__).resolve().parents[1]

# the tests that start long-running processes: the headless meter and `stsgas serve`
SPAWNING = [
    "tests/cli/test_irpad.py::test_headless_meter_start_serves_ir_and_keeps_state",
    "tests/vending/test_server.py::test_serve_starts_and_answers_a_demo_login",
]


def _processes_marked(mark: str) -> list[str]:
    """Command lines of the live processes whose environment carries ``mark``."""
    found = []
    needle = f"STSGAS_TEST_RUN_MARK={mark}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                found.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except OSError:
            continue  # gone meanwhile, or not ours to read
    return found


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs Linux /proc")
def test_suite_with_sigint_and_sigterm_ignored_passes_and_leaves_no_process(
    tmp_path: Path,
) -> None:
    """Run the spawning tests as a background job would (SIGINT and SIGTERM ignored):
    they pass, and no process they started is left once pytest returns."""
    mark = uuid.uuid4().hex
    env = {**os.environ, "STSGAS_TEST_RUN_MARK": mark}
    env.pop("PYTEST_XDIST_WORKER", None)
    run = subprocess.run(
        [
            "bash",
            "-c",
            "trap '' INT TERM; exec \"$@\"",
            "bash",
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            f"--basetemp={tmp_path / 'inner'}",
            *SPAWNING,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"{len(SPAWNING)} passed" in run.stdout
    assert _processes_marked(mark) == []


def test_a_child_that_ignores_sigterm_is_killed_reaped_and_reported() -> None:
    """stop() does not hang on a child that ignores SIGTERM: it kills it and says so."""
    child = spawn(
        [
            sys.executable,
            "-c",
            "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', "
            "flush=True); time.sleep(600)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    assert child.stdout.readline() == "ready\n"
    with pytest.raises(AssertionError, match="did not stop on SIGTERM"):
        stop(child, timeout=1.0)
    assert child.returncode == -9


def test_spawned_children_get_default_sigint_and_sigterm() -> None:
    """A child started by spawn() from a parent that ignores SIGINT/SIGTERM handles both
    again (Python's ^C handler, the default SIGTERM)."""
    probe = (
        "import signal; print(signal.getsignal(signal.SIGINT) is signal.default_int_handler, "
        "signal.getsignal(signal.SIGTERM) is signal.SIG_DFL)"
    )
    parent = (
        "import signal, subprocess, sys\n"
        "from tests.processes import spawn\n"
        "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        f"p = spawn([sys.executable, '-c', {probe!r}], stdout=subprocess.PIPE, text=True)\n"
        "print(p.communicate(timeout=30)[0], end='')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", parent],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert out == "True True\n"
