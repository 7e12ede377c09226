"""The PostgreSQL half of the suite is never skipped silently."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# one test that runs on SQLite and on PostgreSQL
BOTH = "tests/vending/test_db.py::test_engine_commits_on_both_backends"
UNREACHABLE = "postgresql+psycopg://postgres@127.0.0.1:1/test"


def _pytest(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("STSGAS_", "PYTEST_XDIST"))}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            f"--basetemp={tmp_path / 'inner'}",
            BOTH,
        ],
        cwd=ROOT,
        env={**environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_skip_pg_skips_them_with_a_loud_summary(tmp_path: Path) -> None:
    """STSGAS_SKIP_PG=1: the PostgreSQL case is skipped (not tried) and the run says so."""
    run = _pytest(tmp_path, STSGAS_SKIP_PG="1", STSGAS_TEST_PG_URL=UNREACHABLE)
    assert run.returncode == 0, run.stdout
    assert "1 passed, 1 skipped" in run.stdout
    assert "1 PostgreSQL tests SKIPPED: the PostgreSQL half did not run" in run.stdout
    assert "unreachable" not in run.stdout


def test_unreachable_server_without_require_is_loud(tmp_path: Path) -> None:
    """A plain pytest run with no server skips the PostgreSQL case, with the loud line."""
    run = _pytest(tmp_path, STSGAS_TEST_PG_URL=UNREACHABLE)
    assert run.returncode == 0, run.stdout
    assert "1 PostgreSQL tests SKIPPED" in run.stdout


def test_require_pg_fails_when_the_server_is_unreachable(tmp_path: Path) -> None:
    """STSGAS_REQUIRE_PG=1 (what `make test` sets): no server is a failure naming the URL."""
    run = _pytest(tmp_path, STSGAS_REQUIRE_PG="1", STSGAS_TEST_PG_URL=UNREACHABLE)
    assert run.returncode == 1
    assert "1 passed, 1 error" in run.stdout
    assert f"STSGAS_REQUIRE_PG=1 but PostgreSQL at {UNREACHABLE} is unreachable" in run.stdout
    assert "SKIPPED" not in run.stdout
