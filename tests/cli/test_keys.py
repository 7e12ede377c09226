"""`stsgas keys` (issue 13): the ceremony as a real process on a real SoftHSM token and
SQLite file: components from files or typed without echo, never printed; a wrong check
value is a one-line refusal with exit 2 that writes nothing."""

from __future__ import annotations

import getpass
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from stsgas.cli import main
from stsgas.vending import migrations
from stsgas.vending.db import make_engine, make_sessionmaker
from stsgas.vending.models import SupplyGroup
from tests.vending.keys.ceremony_data import CASES
from tests.vending.keys.softhsm import SoftHsm, init_token, write_conf


@pytest.fixture
def token(tmp_path: Path) -> SoftHsm:
    """A fresh token in its own folder (each `stsgas keys` process loads SoftHSM anew)."""
    return init_token(write_conf(tmp_path / "hsm"))


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'stsgas.db'}"
    engine = make_engine(url, pool_size=1)
    migrations.upgrade(url, engine=engine)
    engine.dispose()
    return url


def _groups(url: str) -> int:
    engine = make_engine(url, pool_size=1)
    try:
        with make_sessionmaker(engine)() as s:
            return int(s.scalar(select(func.count()).select_from(SupplyGroup)) or 0)
    finally:
        engine.dispose()


def _keys(token: SoftHsm, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STSGAS_")}
    return subprocess.run(
        [sys.executable, "-m", "stsgas", "keys", *args],
        env={**env, **token.env()},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _files(tmp_path: Path, parts: list[str]) -> list[str]:
    out = []
    for n, part in enumerate(parts, 1):
        f = tmp_path / f"component-{n}.txt"
        f.write_text(part + "\n")
        out += ["--component-file", str(f)]
    return out


def _import_files(
    token: SoftHsm, db: str, tmp_path: Path, sgc: str, parts: list[str], *extra: str
) -> subprocess.CompletedProcess[str]:
    """``stsgas keys import`` of supply group SGC/KRN 1 from component files."""
    files = _files(tmp_path, parts)
    return _keys(
        token, "import", "--database", db, "--sgc", sgc, "--krn", "1", *files, *extra, cwd=tmp_path
    )


def test_import_from_component_files_prints_check_values_only(
    token: SoftHsm, db: str, tmp_path: Path
) -> None:
    case = CASES["des"]
    extra = ["--key-kcv", case["key_kcv"], "--custodian", "ann"]
    done = _import_files(token, db, tmp_path, case["sgc"], case["components"], *extra)
    assert done.returncode == 0, done.stderr
    out = done.stdout + done.stderr
    assert "check value C33F45, computed by the security module" in out
    assert out.count("component ") == 3
    for secret in [*case["components"], "abababababababab"]:
        assert secret not in out.lower()
    assert _groups(db) == 1
    check = _keys(token, "check", "--database", db, cwd=tmp_path)
    assert check.returncode == 0, check.stderr
    assert check.stdout.strip() == f"{case['sgc']}/KRN 1: held"


def test_a_wrong_component_check_value_is_refused_and_writes_nothing(
    token: SoftHsm, db: str, tmp_path: Path
) -> None:
    case = CASES["des"]
    extra = ["--kcv", "000000", "--kcv", "111111"]
    done = _import_files(token, db, tmp_path, case["sgc"], case["components"][:2], *extra)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("stsgas keys import: component 1 has check value ")
    assert "Traceback" not in done.stderr
    assert _groups(db) == 0


def test_a_dkga04_key_below_the_token_limit_is_refused_naming_it(
    token: SoftHsm, db: str, tmp_path: Path
) -> None:
    short = ["01" * 20, "02" * 20]
    done = _keys(
        token,
        "import",
        "--database",
        db,
        "--sgc",
        "123456",
        "--krn",
        "1",
        "--dkga",
        "4",
        *_files(tmp_path, short),
        cwd=tmp_path,
    )
    assert done.returncode == 2
    assert "HMAC keys of at least 32 bytes" in done.stderr
    assert _groups(db) == 0


def test_components_typed_without_echo(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    db: str,
    tmp_path: Path,
) -> None:
    """The prompt path reads each component through getpass (no echo), software custody."""
    case = CASES["hmac"]
    typed: Iterator[str] = iter(case["components"])
    prompts: list[str] = []

    def fake_getpass(prompt: str = "") -> str:
        prompts.append(prompt)
        return next(typed)

    monkeypatch.setattr(getpass, "getpass", fake_getpass)
    monkeypatch.setenv("STSGAS_MASTER_KEY", "00" * 32)
    monkeypatch.delenv("STSGAS_SECURITY_MODULE", raising=False)
    code = main(
        [
            "keys",
            "import",
            "--database",
            db,
            "--sgc",
            "654321",
            "--krn",
            "1",
            "--dkga",
            "4",
            "--ea",
            "11",
        ]
    )
    out = capsys.readouterr()
    assert code == 0, out.err
    assert prompts == ["component 1 of 2 (hex, not shown): ", "component 2 of 2 (hex, not shown): "]
    assert "of the key entered" in out.out
    for part in case["components"]:
        assert part not in out.out + out.err
    assert _groups(db) == 1


def test_generate_makes_a_key_in_the_hsm_that_check_finds(
    token: SoftHsm, db: str, tmp_path: Path
) -> None:
    done = _keys(token, "generate", "--database", db, "--sgc", "600100", "--krn", "2", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("generated the vending key of supply group 600100/KRN 2")
    check = _keys(token, "check", "--database", db, cwd=tmp_path)
    assert check.stdout.strip() == "600100/KRN 2: held"
    short = _keys(
        token,
        "generate",
        "--database",
        db,
        "--sgc",
        "600100",
        "--krn",
        "3",
        "--length",
        "20",
        cwd=tmp_path,
    )
    assert short.returncode == 2
    assert short.stderr.strip() == (
        "stsgas keys generate: the HSM takes HMAC keys of at least 32 bytes, not 20"
    )
    assert _groups(db) == 1
