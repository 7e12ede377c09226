"""Child processes the tests start: default signal handling, their own group, always reaped.

A test run can inherit ignored signals: a background job of a non-interactive
shell ignores SIGINT, and some CI runners start jobs with SIGINT or SIGTERM
ignored. An ignored disposition survives ``exec``, so a child started plainly
would ignore the signal the test sends to stop it and outlive the run. Every
long-running child of the suite is therefore started through :func:`spawn`
(SIGINT and SIGTERM back to their defaults, a new session so the whole group can
be killed) and ended by :func:`stop` (SIGTERM, then SIGKILL to the group, then
reaped). A test that talks to such a server takes a port from :func:`free_port`
and its first answer from :func:`answer` (retried while nothing listens yet).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import httpx

# Runs in the child before the real program: reset what the parent may have
# ignored, then exec (a handler set to SIG_DFL stays SIG_DFL across exec).
_RESET_THEN_EXEC = (
    "import os, signal, sys\n"
    "for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):\n"
    "    signal.signal(s, signal.SIG_DFL)\n"
    "os.execvp(sys.argv[1], sys.argv[1:])\n"
)


def spawn(args: Sequence[str], **popen: Any) -> subprocess.Popen[Any]:
    """Start ``args`` with default SIGINT/SIGTERM/SIGHUP in a session of its own."""
    return subprocess.Popen(
        [sys.executable, "-c", _RESET_THEN_EXEC, *args], start_new_session=True, **popen
    )


def stop(proc: subprocess.Popen[Any], timeout: float = 10.0) -> tuple[Any, Any]:
    """SIGTERM the process; if it is still there after ``timeout`` s, SIGKILL its group.

    Always reaps it and returns ``communicate()``'s output; raises AssertionError
    when SIGTERM was not enough (a child that ignores SIGTERM is a defect).
    """
    if proc.poll() is None:
        with suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
    try:
        return proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # the leader is alive: the group is ours
        proc.communicate()
        raise AssertionError(f"{proc.args!r} did not stop on SIGTERM within {timeout} s") from None


@contextmanager
def running(args: Sequence[str], **popen: Any) -> Iterator[subprocess.Popen[Any]]:
    """:func:`spawn` for the ``with`` block, :func:`stop` after it (even on failure)."""
    proc = spawn(args, **popen)
    try:
        yield proc
    finally:
        if proc.returncode is None:
            stop(proc)


def read_env_file(path: Path) -> dict[str, str]:
    """The settings in an env file ``stsgas init`` wrote, for the server it starts."""
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if line)
    return {k: v.strip("'") for k, v in pairs}


def free_port() -> int:
    """A TCP port nothing listens on now on 127.0.0.1 (for a server the test starts)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def answer(
    ask: Callable[[], httpx.Response],
    proc: subprocess.Popen[Any],
    *,
    seconds: float = 30.0,
    status: int | None = None,
    detail: Callable[[], str] = str,
) -> httpx.Response:
    """The first answer of the server ``proc`` is starting (with ``status``, if given):
    ``ask`` again while nothing listens yet; fail at once when the process exits, or
    after ``seconds``. ``detail`` adds what the failure message should show (its log)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            r = ask()
            if status is None or r.status_code == status:
                return r
        except httpx.TransportError:
            pass
        assert proc.poll() is None, f"the server exited {detail()}"
        assert time.monotonic() < deadline, f"the server did not answer in {seconds} s {detail()}"
        time.sleep(0.2)


def read_terminal(master: int) -> bytes:
    """All a child writes to the pseudo-terminal ``master`` (until every writer has
    closed it): read while it runs, so a full terminal buffer never blocks it."""
    seen = bytearray()
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: every writer of the terminal is gone
            break
        if not chunk:
            break
        seen += chunk
    return bytes(seen)
