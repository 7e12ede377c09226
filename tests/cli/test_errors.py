"""Every command's errors, as a person meets them (issue 13): a bad database URL, an
unreachable database, a missing file and a closed stdout (``| head``) each give one line
on stderr that names the command, and the exit code documented in docs/cli.md. Each
case is a real ``stsgas`` process; the table is tests/data/cli/error-cases.json."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from stsgas.cli import GROUPS

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
CASES: list[dict[str, Any]] = json.loads((DATA / "cli" / "error-cases.json").read_text())["cases"]
#: a password that must never be printed
SECRET = "n0t-to-be-Printed"
DOWN_URL = f"postgresql+psycopg://stsgas:{SECRET}@127.0.0.1:1/stsgas"


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STSGAS_")}
    env["COLUMNS"] = "100"
    return {**env, **(extra or {})}


@pytest.fixture(scope="module")
def sound_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated SQLite database with the demo data (supply groups for the meter book)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('sound') / 'stsgas.db'}"
    done = subprocess.run(
        [sys.executable, "-m", "stsgas", "serve", "--database", url, "--demo", "--migrate-only"],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return url


def _fill(text: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        text = text.replace("{" + name + "}", value)
    return text


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_one_line_and_the_documented_exit_code(
    case: dict[str, Any], sound_db: str, tmp_path: Path
) -> None:
    """The case's exit code; stderr is one line, starting with the command's name."""
    values = {
        "bad_url": "not a url",
        "down_url": DOWN_URL,
        "sound_db": sound_db,
        "tmp": str(tmp_path),
        "data": str(DATA),
        "root": str(ROOT),
    }
    argv = [_fill(a, values) for a in case["argv"]]
    if "touch" in case:
        (tmp_path / case["touch"]).touch()
    stdin = Path(_fill(case["stdin"], values)).open("rb") if "stdin" in case else None  # noqa: SIM115
    read_end, write_end = os.pipe()
    if case.get("pipe") == "closed":
        os.close(read_end)  # nobody reads: the first write fails, as after `| head` quits
        stdout: Any = write_end
    else:
        os.close(write_end)
        os.close(read_end)
        stdout = subprocess.DEVNULL
    try:
        done = subprocess.run(
            [sys.executable, "-m", "stsgas", *argv],
            stdin=stdin if stdin is not None else subprocess.DEVNULL,
            stdout=stdout,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp_path,
            env=_env({k: _fill(v, values) for k, v in case.get("env", {}).items()}),
            timeout=120,
            check=False,
        )
    finally:
        if case.get("pipe") == "closed":
            os.close(write_end)
        if stdin is not None:
            stdin.close()
    lines = done.stderr.splitlines()
    assert done.returncode == case["exit"], done.stderr
    assert len(lines) == 1, done.stderr
    said = lines[0].split(": ")[0].split()
    assert said[0] == "stsgas", lines[0]
    assert said[1:] == case["argv"][: len(said) - 1], lines[0]  # the command, as typed
    if case["argv"][0] in GROUPS:
        assert len(said) >= 2, lines[0]
    assert case["says"] in lines[0]
    assert SECRET not in done.stderr


def test_check_never_says_broken_for_a_database_it_cannot_read() -> None:
    """Exit 1 of ``stsgas check`` means "the ledger is broken": no case of an unreadable
    database may give it."""
    for case in CASES:
        if case["argv"][0] == "check":
            assert case["exit"] != 1, case["id"]
