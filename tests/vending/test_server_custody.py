"""Key custody at start (issue 11 point 16): `stsgas serve` refuses, in one line with
exit code 2, to start on a master key that does not open the database's vending keys,
never guesses a key location in the working folder, and never prints the password."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from stsgas.vending.db import make_sessionmaker
from stsgas.vending.keys.security import SoftwareSecurityModule
from tests.vending import factories
from tests.vending.conftest import TEST_KEYS

PASSWORD = "n0t-to-be-Printed"


def _serve(url: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`stsgas serve --migrate-only` from ``cwd`` with only the given key settings."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("STSGAS_")}
    return subprocess.run(
        [sys.executable, "-m", "stsgas", "serve", "--migrate-only"],
        env={**base, "STSGAS_DATABASE_URL": url, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _with_password(db_url: str) -> str:
    """The test database's URL with a password (trust auth ignores it on PostgreSQL)."""
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        return db_url
    return url.set(password=PASSWORD).render_as_string(hide_password=False)


def _one_line_refusal(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("stsgas serve: "), done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert PASSWORD not in done.stdout + done.stderr
    return lines[0]


@pytest.fixture
def keyed_db(engine: Engine, security_module: SoftwareSecurityModule) -> None:
    """The test database holds a supply group wrapped under the test master key."""
    with make_sessionmaker(engine).begin() as s:
        factories.supply_group(s, security_module)


@pytest.mark.usefixtures("keyed_db")
def test_start_from_another_folder_with_another_key_is_refused(db_url: str, tmp_path: Path) -> None:
    """A key that does not open the stored vending keys stops the start; the right key
    starts it, from any folder, and the banner hides the password."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    wrong, right = elsewhere / "wrong.key", tmp_path / "right.key"
    wrong.write_text(secrets.token_hex(32) + "\n")
    right.write_text(TEST_KEYS["master_key"] + "\n")
    url = _with_password(db_url)
    line = _one_line_refusal(_serve(url, elsewhere, STSGAS_MASTER_KEY_FILE=str(wrong)))
    assert "does not open the vending key of supply group" in line
    ok = _serve(url, elsewhere, STSGAS_MASTER_KEY_FILE=str(right))
    assert ok.returncode == 0, ok.stderr
    assert PASSWORD not in ok.stdout + ok.stderr
    assert "database: " in ok.stdout
    assert list(elsewhere.iterdir()) == [wrong]  # nothing made in the working folder


@pytest.mark.usefixtures("keyed_db")
def test_missing_or_unreadable_key_file_is_refused(db_url: str, tmp_path: Path) -> None:
    """A configured key file that is not there, or not a key, is a one-line refusal."""
    line = _one_line_refusal(
        _serve(_with_password(db_url), tmp_path, STSGAS_MASTER_KEY_FILE="master.key")
    )
    assert "cannot read the master key file master.key" in line
    (tmp_path / "bad.key").write_text("not hex\n")
    line = _one_line_refusal(
        _serve(_with_password(db_url), tmp_path, STSGAS_MASTER_KEY_FILE="bad.key")
    )
    assert "not hex" in line


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.usefixtures("keyed_db")
def test_sqlite_without_its_key_file_makes_no_new_key(db_url: str, tmp_path: Path) -> None:
    """SQLite keeps its default key beside the database file: when that file is gone
    while the database holds vending keys, no new key is made (every sale would fail)."""
    db_dir = Path(make_url(db_url).database or "").parent
    line = _one_line_refusal(_serve(db_url, tmp_path / ".."))
    assert f"no master key at {db_dir / 'master.key'}" in line
    assert not (db_dir / "master.key").exists()
    (db_dir / "master.key").write_text(TEST_KEYS["master_key"] + "\n")
    assert _serve(db_url, tmp_path).returncode == 0


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_postgresql_requires_the_key_location(db_url: str, tmp_path: Path) -> None:
    """On PostgreSQL no key file is looked for or made in the working folder: the
    location is required configuration, even for an empty database."""
    line = _one_line_refusal(_serve(_with_password(db_url), tmp_path))
    assert "set STSGAS_MASTER_KEY_FILE" in line
    assert list(tmp_path.iterdir()) == []


def test_unreachable_database_is_one_line_without_the_password(tmp_path: Path) -> None:
    """A database that cannot be reached answers one line that hides the password."""
    (tmp_path / "m.key").write_text(TEST_KEYS["master_key"] + "\n")
    url = f"postgresql+psycopg://nobody:{PASSWORD}@127.0.0.1:1/none"
    line = _one_line_refusal(_serve(url, tmp_path, STSGAS_MASTER_KEY_FILE="m.key"))
    assert "cannot use the database postgresql+psycopg://nobody:***@127.0.0.1:1/none" in line
