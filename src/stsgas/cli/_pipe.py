"""Writing to stdout and stderr when the reader may be gone; no Typer, no Rich.

``stsgas --help`` and ``--version`` use these before (and instead of) importing
Typer, so a closed pipe is reported the same way as for every other command.
"""

from __future__ import annotations

import contextlib
import os
import sys

from stsgas.cli._codes import CLOSED_PIPE


def say(line: str) -> None:
    """One line on stderr; a closed stderr loses it rather than failing again."""
    with contextlib.suppress(OSError, ValueError):
        print(line, file=sys.stderr, flush=True)


def silence_stdout() -> None:
    """After stdout's reader went away, point stdout at /dev/null so the interpreter's
    last flush does not fail a second time (only for a real file descriptor)."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


def closed_pipe(path: str) -> int:
    """stdout's reader went away: one line on stderr, exit 141."""
    silence_stdout()
    say(f"{path}: the output was closed before the end (broken pipe)")
    return CLOSED_PIPE


def write(text: str, path: str, code: int) -> int:
    """Print ``text`` on stdout and return ``code``, or 141 if the pipe was closed."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        return closed_pipe(path)
    return code
