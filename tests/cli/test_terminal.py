"""What a person at a terminal sees (issue 13), on real pseudo-terminals: a progress bar
on stderr while long work runs, tables where people read; and none of it in output
that goes to a pipe."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

from tests.processes import read_terminal

ROOT = Path(__file__).resolve().parents[2]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STSGAS_")}
    return {**env, "COLUMNS": "100", "LINES": "40", "TERM": "xterm-256color"}


def _run(argv: list[str], *, stdout_tty: bool, stderr_tty: bool) -> tuple[int, str, str]:
    """Run stsgas with stdout and/or stderr on a pty; (exit, stdout, stderr) as text."""
    master, slave = pty.openpty()
    try:
        with subprocess.Popen(
            [sys.executable, "-m", "stsgas", *argv],
            stdin=subprocess.DEVNULL,
            stdout=slave if stdout_tty else subprocess.PIPE,
            stderr=slave if stderr_tty else subprocess.PIPE,
            env=_env(),
        ) as proc:
            os.close(slave)
            seen = read_terminal(master)
            out = proc.stdout.read() if proc.stdout else b""
            err = proc.stderr.read() if proc.stderr else b""
            code = proc.wait(timeout=120)
    finally:
        os.close(master)
    tty = seen.decode(errors="replace")
    return (
        code,
        tty if stdout_tty else out.decode(),
        tty if stderr_tty else err.decode(),
    )


def test_simulate_draws_its_bar_on_a_terminal_stderr_only() -> None:
    """A fleet simulation shows 'simulating' with a meter count on the terminal; the
    summary on the pipe has no bar in it."""
    argv = ["meter", "simulate", "--years", "1", "--meters", "2", "--no-nvm", "--json"]
    code, out, err = _run(argv, stdout_tty=False, stderr_tty=True)
    assert code == 0, err
    assert "simulating 2 × 1 years" in err
    assert '"meters": 2' in out
    assert "simulating" not in out
    assert "\x1b[" not in out


def test_no_bar_when_stderr_is_not_a_terminal() -> None:
    """Cron and pipes: stderr stays empty on success."""
    argv = ["meter", "simulate", "--years", "1", "--no-nvm", "--json"]
    code, _out, err = _run(argv, stdout_tty=False, stderr_tty=False)
    assert (code, err) == (0, "")


def test_query_codes_are_a_table_on_a_terminal_and_lines_in_a_pipe() -> None:
    """``meter codes``: a boxed table with a title on a terminal, plain lines to a pipe."""
    code, shown, _ = _run(["meter", "codes"], stdout_tty=True, stderr_tty=False)
    assert code == 0
    assert "query codes" in shown
    assert "remaining credit" in shown
    assert "┃" in shown or "│" in shown
    code, piped, _ = _run(["meter", "codes"], stdout_tty=False, stderr_tty=False)
    assert code == 0
    assert piped.splitlines()[:2] == ["code  shows", "01  remaining credit"]


def test_check_is_a_table_on_a_terminal_and_json_in_a_pipe(tmp_path: Path) -> None:
    """``check`` on a sound database: a table of the checks on a terminal, the JSON
    report (for cron) in a pipe; exit 0 both times."""
    url = f"sqlite:///{tmp_path / 'stsgas.db'}"
    code, _, err = _run(
        ["serve", "--database", url, "--demo", "--migrate-only"], stdout_tty=False, stderr_tty=False
    )
    assert code == 0, err
    code, shown, _ = _run(["check", "--database", url], stdout_tty=True, stderr_tty=False)
    assert code == 0
    for row in ("ledger balanced", "one credit token per sale", "audit hash chain"):
        assert row in shown
    assert "BROKEN" not in shown
    code, piped, _ = _run(["check", "--database", url], stdout_tty=False, stderr_tty=False)
    assert code == 0
    assert json.loads(piped)["ok"] is True
