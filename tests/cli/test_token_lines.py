"""``stsgas token encode|decode`` run plainly skips Typer, and answers exactly as the Typer
command does: the same lines out, the same one-line errors, the same exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from stsgas.cli.token_lines import plain

DATA = Path(__file__).resolve().parent.parent / "data" / "cli"
ARGS: dict[str, Any] = json.loads((DATA / "token-plain-args.json").read_text(encoding="utf-8"))
#: the same arguments through the Typer app, never the plain dispatch
_TYPER = "import sys; from stsgas.cli._app import run; sys.exit(run(sys.argv[1:]))"


@pytest.mark.parametrize(("args", "expected"), ARGS["plain"])
def test_plain_runs_are_recognised(args: list[str], expected: list[Any]) -> None:
    assert plain(args) == tuple(expected)


@pytest.mark.parametrize("args", ARGS["to_typer"])
def test_every_other_spelling_goes_to_the_typer_app(args: list[str]) -> None:
    assert plain(args) is None


def _both(args: list[str], stdin: bytes = b"") -> tuple[Any, Any]:
    def run(head: list[str]) -> tuple[int, bytes, bytes]:
        done = subprocess.run(
            [sys.executable, *head, *args], input=stdin, capture_output=True, timeout=60
        )
        return done.returncode, done.stdout, done.stderr

    return run(["-m", "stsgas"]), run(["-c", _TYPER])


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["token", "encode", "--input", str(DATA / "credit-line.jsonl")], 0),
        (["token", "encode", "--input", str(DATA / "encode-mixed.jsonl")], 1),  # lines fail
        (["token", "encode", "-i", str(DATA / "encode-edge.jsonl")], 1),  # a line fails
        (["token", "encode", "--input", str(DATA / "no-such-file.jsonl")], 2),
        (["token", "decode", "--input", str(DATA / "credit-line.jsonl")], 1),  # not tokens
    ],
)
def test_the_plain_run_answers_as_the_typer_command(args: list[str], code: int) -> None:
    fast, typer = _both(args)
    assert fast == typer
    assert fast[0] == code
    assert fast[1] or fast[2]  # it said something


def test_stdin_is_read_alike() -> None:
    lines = (DATA / "encode-varied.jsonl").read_bytes()
    fast, typer = _both(["token", "encode"], stdin=lines)
    assert fast == typer
    assert fast[0] == 1  # some of its lines are refused, each answered in its place
    assert fast[1].count(b"\n") == lines.count(b"\n")


def test_a_plain_run_imports_neither_typer_nor_pydantic() -> None:
    """What the dispatch saves: Typer and the pydantic it brings, a third of the start-up."""
    probe = (
        "import sys; from stsgas.cli import main; "
        f"code = main(['token', 'encode', '--input', {str(DATA / 'credit-line.jsonl')!r}]); "
        "print(code, 'typer' in sys.modules, 'pydantic' in sys.modules, file=sys.stderr)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.stderr.split()[-3:] == ["0", "False", "False"], done.stderr
