"""`stsgas init` (issue 13, set-up): a working install from nothing, refusals in one line
with a documented exit code, and `stsgas serve` on a database without an admin."""

from __future__ import annotations

import getpass
import json
import os
import secrets
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from stsgas.cli import main
from tests.processes import answer, free_port, read_env_file, running
from tests.vending.empty_pg import empty_database

PASSWORD = "Gas-meters-go-live"
DB_PASSWORD = "n0t-to-be-Printed"


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("STSGAS_")}


def _stsgas(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stsgas", *args],
        cwd=cwd,
        env=env or _env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _refusal(done: subprocess.CompletedProcess[str], code: int, command: str = "init") -> str:
    """The one stderr line of a refusal with exit status ``code``."""
    assert done.returncode == code, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"stsgas {command}: "), done.stderr
    assert DB_PASSWORD not in done.stdout + done.stderr
    assert PASSWORD not in done.stdout + done.stderr
    return lines[0]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def fresh_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty, unmigrated database (PostgreSQL: created here, dropped after)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'var' / 'stsgas.db'}"
        return
    with empty_database("stsgas_init") as url:
        # trust auth ignores the password: it is there to prove it is never printed
        yield url.set(password=DB_PASSWORD).render_as_string(hide_password=False)


def _key_args(url: str, tmp_path: Path) -> list[str]:
    """SQLite keeps its key beside the file; PostgreSQL is told where (here: /etc-like)."""
    if url.startswith("sqlite"):
        return []
    return ["--master-key-file", str(tmp_path / "etc" / "master.key")]


def _password_file(tmp_path: Path, password: str = PASSWORD) -> Path:
    path = tmp_path / "admin-password"
    path.write_text(password + "\nsecond line is ignored\n")
    return path


def _login(port: int, proc: subprocess.Popen[str], password: str) -> httpx.Response:
    def log_in() -> httpx.Response:
        return httpx.post(
            f"http://127.0.0.1:{port}/api/v1/auth/login",
            json={"username": "chief", "password": password},
            timeout=5,
        )

    return answer(log_in, proc, seconds=60)


def test_init_makes_an_install_serve_runs_and_the_admin_logs_in(
    fresh_db: str, tmp_path: Path
) -> None:
    """init migrates, makes the key and env file (0600), says what to run; serve with
    those settings starts and the admin logs in with the password from the file."""
    work = tmp_path / "work"
    work.mkdir()
    done = _stsgas(
        "init",
        "--database",
        fresh_db,
        *_key_args(fresh_db, tmp_path),
        "--currency-decimals",
        "3",
        "--timezone",
        "Africa/Johannesburg",
        "--admin",
        "chief",
        "--password-file",
        str(_password_file(tmp_path)),
        cwd=work,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert DB_PASSWORD not in done.stdout + done.stderr
    assert PASSWORD not in done.stdout + done.stderr
    assert "stsgas serve" in done.stdout
    key = (
        tmp_path / "etc" / "master.key"
        if not fresh_db.startswith("sqlite")
        else tmp_path / "var" / "master.key"
    )
    env_file = key.parent / "stsgas.env"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    settings = read_env_file(env_file)
    assert settings == {
        "STSGAS_DATABASE_URL": fresh_db,
        "STSGAS_MASTER_KEY_FILE": str(key),
        "STSGAS_CURRENCY_DECIMALS": "3",
        "STSGAS_TIMEZONE": "Africa/Johannesburg",
    }
    assert key.read_text().strip() not in done.stdout + done.stderr
    assert list(work.iterdir()) == []  # nothing left in the working folder
    port = free_port()
    with running(
        [sys.executable, "-m", "stsgas", "serve", "--port", str(port)],
        env={**_env(), **settings},
        cwd=work,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as proc:
        ok = _login(port, proc, PASSWORD)
        wrong = httpx.post(
            f"http://127.0.0.1:{port}/api/v1/auth/login",
            json={"username": "chief", "password": "second line is ignored"},
            timeout=5,
        )
    assert ok.status_code == 200, ok.text
    assert ok.json()["operator"]["role"] == "admin"
    assert wrong.status_code == 401


def test_init_twice_is_refused_with_exit_3(fresh_db: str, tmp_path: Path) -> None:
    """A database that already has an admin is set up: exit 3, the key file untouched."""
    args = [
        "init",
        "--database",
        fresh_db,
        *_key_args(fresh_db, tmp_path),
        "--admin",
        "chief",
        "--password-file",
        str(_password_file(tmp_path)),
    ]
    assert _stsgas(*args, cwd=tmp_path).returncode == 0
    key = next(tmp_path.glob("*/master.key"))
    before = key.read_text()
    line = _refusal(_stsgas(*args, cwd=tmp_path), 3)
    assert "already has an admin" in line
    assert key.read_text() == before


def test_init_refuses_a_key_file_that_does_not_open_the_stored_keys(
    fresh_db: str, tmp_path: Path
) -> None:
    """An existing key file is never overwritten; one that does not open the database's
    vending keys stops init before any admin is made."""
    from stsgas.vending.db import make_engine, make_sessionmaker
    from stsgas.vending.keys.security import SoftwareSecurityModule
    from stsgas.vending.migrations import upgrade
    from tests.vending import factories

    if fresh_db.startswith("sqlite"):
        (tmp_path / "var").mkdir()
    engine = make_engine(fresh_db, pool_size=1)
    upgrade(fresh_db, engine=engine)
    with make_sessionmaker(engine).begin() as s:
        factories.supply_group(s, SoftwareSecurityModule(secrets.token_bytes(32)))
    engine.dispose()
    key = tmp_path / "other" / "master.key"
    key.parent.mkdir()
    other = secrets.token_hex(32) + "\n"
    key.write_text(other)
    line = _refusal(
        _stsgas(
            "init",
            "--database",
            fresh_db,
            "--master-key-file",
            str(key),
            "--admin",
            "chief",
            "--password-file",
            str(_password_file(tmp_path)),
            cwd=tmp_path,
        ),
        2,
    )
    assert "does not open the vending key" in line
    assert key.read_text() == other
    engine = make_engine(fresh_db, pool_size=1)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM operators")).scalar() == 0
    engine.dispose()


REFUSALS = json.loads(
    (Path(__file__).resolve().parents[1] / "data" / "cli" / "init-refusals.json").read_text()
)["cases"]


@pytest.mark.parametrize("case", REFUSALS, ids=[c["id"] for c in REFUSALS])
def test_init_refuses_bad_input_in_one_line_and_writes_nothing(
    case: dict[str, Any], tmp_path: Path
) -> None:
    """Bad set-up input exits 2 with one line saying what is wrong, never a password,
    and leaves no database folder or key file behind."""
    url = case["database"].format(tmp=tmp_path, db_password=DB_PASSWORD)
    key = ["--master-key-file", str(tmp_path / "master.key")] if case.get("master_key_file") else []
    password = _password_file(tmp_path, case.get("password", PASSWORD))
    extra = case.get("extra", [])
    args = ["init", "--database", url, *key, *extra, "--admin", case["admin"], "--password-file"]
    line = _refusal(_stsgas(*args, str(password), cwd=tmp_path), 2)
    assert case["says"] in line
    for name in case["absent"]:
        assert not (tmp_path / name).exists()


def test_typed_passwords_that_differ_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --password-file the password is typed twice; two different ones stop init."""
    typed = iter([PASSWORD, PASSWORD + "!"])
    monkeypatch.setattr(getpass, "getpass", lambda prompt: next(typed))
    url = f"sqlite:///{tmp_path / 'var' / 'stsgas.db'}"
    assert main(["init", "--database", url, "--admin", "chief"]) == 2
    err = capsys.readouterr().err
    assert err == "stsgas init: the two passwords differ\n"
    assert not (tmp_path / "var").exists()


def test_serve_without_an_admin_says_to_run_init(tmp_path: Path) -> None:
    """A fresh database and no --demo: serve exits 2 naming `stsgas init`."""
    env = {**_env(), "STSGAS_DATABASE_URL": f"sqlite:///{tmp_path / 'stsgas.db'}"}
    line = _refusal(_stsgas("serve", "--port", str(free_port()), cwd=tmp_path, env=env), 2, "serve")
    assert "no admin account" in line
    assert "stsgas init --database URL --admin NAME" in line
