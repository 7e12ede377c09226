"""``stsgas worker`` outside PostgreSQL: one clear line and exit 2 (the queue-backed runs
are tested on PostgreSQL in tests/vending/jobs/test_queue_pg.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

STSGAS = str(Path(sys.executable).with_name("stsgas"))


def test_worker_refuses_sqlite_with_one_line(tmp_path: Path) -> None:
    """On SQLite there is no queue: exit 2 and a line saying the server runs the jobs."""
    env = {**os.environ, "STSGAS_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    for args in ([], ["failed"]):
        done = subprocess.run(
            [STSGAS, "worker", *args], env=env, capture_output=True, text=True, check=False
        )
        assert done.returncode == 2
        assert done.stderr.count("\n") == 1
        assert "the server runs the jobs itself" in done.stderr


def test_worker_reports_an_unreachable_database_without_its_password() -> None:
    """Nothing listens on port 1: exit 2, one line, the password shown as ***."""
    url = "postgresql+psycopg://stsgas:Worker-pw-77@127.0.0.1:1/stsgas"
    done = subprocess.run(
        [STSGAS, "worker", "--database", url], capture_output=True, text=True, check=False
    )
    assert done.returncode == 2
    assert "cannot use the database postgresql+psycopg://stsgas:***@127.0.0.1:1" in done.stderr
    assert "Worker-pw-77" not in done.stderr + done.stdout
