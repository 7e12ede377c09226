"""``stsgas token encode|decode``: JSON Lines through the library's batch API.

The command only reads and writes lines; :mod:`stsgas.sts.batch` and
:mod:`stsgas.sts.batch_decode` answer them. Nothing here imports Typer: a
plain run (``stsgas token encode [--input FILE]``, the form a vending system
pipes 100,000 lines through) is dispatched here by ``stsgas.cli.main`` before
Typer and pydantic are imported (about a third of the command's start-up),
and the Typer command of :mod:`.token` calls the same :func:`lines` for every
other spelling (``--help``, ``--sta-tables``…), so both give the same bytes,
messages and exit codes.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, cast

from stsgas.cli._bars import progress
from stsgas.cli._codes import FOUND, OK
from stsgas.cli._errors import fail, said, stopped

__all__ = ["BATCH", "lines", "plain", "run_lines", "serve"]

BATCH = 8192
#: How many failed line numbers the closing message lists.
_SHOWN = 10
_COMMANDS = ("encode", "decode")


def plain(args: list[str]) -> tuple[str, str | None] | None:
    """``(command, input)`` when ``args`` are a plain ``token encode|decode`` run
    (no option but ``--input FILE``, ``-i FILE`` or ``--input=FILE``); None sends
    every other spelling to the Typer app, which words its help and usage errors."""
    if len(args) < 2 or args[0] != "token" or args[1] not in _COMMANDS:
        return None
    command, rest = args[1], args[2:]
    if not rest:
        return command, None
    if len(rest) == 2 and rest[0] in ("--input", "-i"):
        value = rest[1]
        return (command, value) if value == "-" or value[:1] not in ("", "-") else None
    if len(rest) == 1 and rest[0].startswith("--input=") and len(rest[0]) > len("--input="):
        return command, rest[0].removeprefix("--input=")
    return None


def serve(command: str, name: str | None) -> int:
    """Run a plain ``stsgas token encode|decode`` and give its exit code, errors worded
    as the Typer app words them (:func:`.said`)."""
    path = f"stsgas token {command}"
    try:
        code = lines(command, name)
        sys.stdout.flush()
        return code
    except KeyboardInterrupt:
        print(file=sys.stderr)  # past the ^C echoed, as Click does before its Abort
        return stopped(path)
    except Exception as exc:
        code_ = said(exc, path)
        if code_ is None:
            raise
        return code_


def lines(command: str, name: str | None) -> int:
    """encode / decode ``name`` (None or ``-``: stdin) to stdout: every line answered;
    exit 1 when a line failed. A bar on stderr when the output goes to a file or pipe
    and stderr is a terminal (never mixed into the output)."""
    name = None if name is None or name == "-" else str(Path(name))
    try:
        stream = _open_input(name)
    except OSError as exc:
        fail(f"cannot read {name}: {exc.strerror}")
    size = None
    if name is not None:
        size = Path(name).stat().st_size
    with stream, progress("tokens", show=not sys.stdout.isatty()) as bar:
        task = bar.add_task("read", total=size)
        counted = cast(IO[bytes], _Counted(stream, lambda n: bar.advance(task, n)))
        failed = run_lines(command, counted, sys.stdout.buffer)
    if failed:
        print(_failed_message(failed), file=sys.stderr)
        return FOUND
    return OK


def _batches(stream: IO[bytes]) -> Iterable[tuple[int, list[bytes]]]:
    """``(number of the first line, lines)``, about BATCH lines at a time, read in large blocks."""
    tail = b""
    number = 1
    while True:
        block = stream.read(BATCH * 512)
        if not block:
            break
        parts = (tail + block).split(b"\n")
        tail = parts.pop()
        for start in range(0, len(parts), BATCH):
            yield number, parts[start : start + BATCH]
            number += len(parts[start : start + BATCH])
    if tail:
        yield number, [tail]


def run_lines(command: str, stream: IO[bytes], out: IO[bytes]) -> list[int]:
    """Answer the JSON Lines of ``stream`` on ``out``; return the failed lines' numbers.

    The automatic cyclic garbage collector is paused meanwhile (a batch makes
    many small acyclic objects, and its collections cost about a tenth of the
    run); one explicit collection every 16 batches keeps memory bounded.
    """
    # the batch codecs bring numpy (about a hundred modules): only encode and decode
    # pay for them, not credit, keychange or decode-one
    if command == "encode":
        from stsgas.sts.batch import encode_lines as answer
    else:
        from stsgas.sts.batch_decode import decode_lines as answer
    failed: list[int] = []
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        for count, (first, batch) in enumerate(_batches(stream), start=1):
            if count % 16 == 0:
                gc.collect()
            answers = answer(batch, first=first)
            failed += answers.failed
            if answers.lines:
                answers.lines.append(b"")
                out.write(b"\n".join(answers.lines))
    finally:
        if was_enabled:
            gc.enable()
    out.flush()
    return failed


def _failed_message(failed: list[int]) -> str:
    shown = ", ".join(map(str, failed[:_SHOWN])) + (", …" if len(failed) > _SHOWN else "")
    return f"stsgas token: {len(failed)} line(s) failed (line {shown})"


def _open_input(path: str | None) -> IO[bytes]:
    return sys.stdin.buffer if path is None else Path(path).open("rb")


class _Counted:
    """An input stream that moves a progress bar by the bytes read."""

    def __init__(self, stream: IO[bytes], step: Callable[[int], None]) -> None:
        self._stream = stream
        self._step = step

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        self._step(len(data))
        return data
