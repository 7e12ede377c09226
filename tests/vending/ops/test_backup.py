"""``stsgas db backup`` / ``restore``: a backup of a database with sales restores into an
empty database that passes ``stsgas check`` with every sale and token, on SQLite and
PostgreSQL; a non-empty target is refused; the password is never printed."""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.engine import make_url

from stsgas.cli import main
from stsgas.vending.db import make_sessionmaker
from stsgas.vending.models import Sale, Token
from tests.vending.conftest import PG_URL, integrity
from tests.vending.sales.conftest import Shop
from tests.vending.sales.test_service import sell

#: a password no output may contain
SECRET = "Sup3r-Secret-pw"


@pytest.fixture
def empty_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A URL of a database that holds no tables (PostgreSQL: created, dropped after)."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored' / 'stsgas.db'}"
        return
    base = make_url(PG_URL)
    name = f"{base.database or 'test'}_restore_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _rows(url: str) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    """Every sale and token, in id order, with the values a customer relies on."""
    engine = create_engine(url)
    try:
        with make_sessionmaker(engine)() as s:
            sales = [
                tuple(r)
                for r in s.execute(
                    select(
                        Sale.id,
                        Sale.meter_id,
                        Sale.amount_paid,
                        Sale.energy_amount,
                        Sale.tax,
                        Sale.status,
                    ).order_by(Sale.id)
                )
            ]
            tokens: list[tuple[object, ...]] = [
                tuple(r)
                for r in s.execute(
                    select(
                        Token.id, Token.sale_id, Token.token_class, Token.tid, Token.digits
                    ).order_by(Token.id)
                )
            ]
    finally:
        engine.dispose()
    return sales, tokens


def _db(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["db", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_backup_restores_into_an_empty_database_that_checks_out(
    client: TestClient,
    shop: Shop,
    db_url: str,
    empty_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Sales on both meter modes; backup; restore into an empty database; ``stsgas check``
    says sound, and every sale and token is there with the same values."""
    for pan, amount in (
        (shop.volume_pan, "25.00"),
        (shop.amount_pan, "10"),
        (shop.volume_pan, "12.50"),
    ):
        assert sell(client, shop.cashier_token, pan, amount).status_code == 201
    backup_file = tmp_path / "backups" / "stsgas.backup"

    code, out, err = _db(capsys, "backup", "--database", db_url, "--out", str(backup_file))
    assert (code, err) == (0, "")
    assert out.startswith("backed up ")
    assert backup_file.is_file()
    assert not backup_file.with_name("stsgas.backup.part").exists()

    code, out, err = _db(capsys, "restore", "--database", empty_url, "--in", str(backup_file))
    assert (code, err) == (0, ""), err
    assert out.startswith("restored ")

    report = integrity(empty_url, capsys)
    assert report["ok"] is True
    assert report["audit_chain"]["ok"] is True
    sales, tokens = _rows(empty_url)
    assert (sales, tokens) == _rows(db_url)
    assert len(sales) == 3
    assert len(tokens) >= 3


def test_restore_refuses_a_database_that_is_not_empty(
    shop: Shop,
    db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Restoring over a database with tables (here the source itself): exit 3, one line,
    nothing changed."""
    backup_file = tmp_path / "b.backup"
    assert _db(capsys, "backup", "--database", db_url, "--out", str(backup_file))[0] == 0
    before = _rows(db_url)
    code, out, err = _db(capsys, "restore", "--database", db_url, "--in", str(backup_file))
    assert code == 3
    assert out == ""
    assert err.count("\n") == 1
    assert "is not empty" in err
    assert _rows(db_url) == before


def test_restore_of_a_missing_or_foreign_file(
    engine: Engine,
    empty_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """No such file, or a file that is no backup: exit 2 and one line."""
    code, _out, err = _db(
        capsys, "restore", "--database", empty_url, "--in", str(tmp_path / "nope")
    )
    assert code == 2
    assert "no backup file" in err
    assert err.count("\n") == 1
    junk = tmp_path / "junk.backup"
    junk.write_bytes(b"not a backup\n" * 10)
    code, _out, err = _db(capsys, "restore", "--database", empty_url, "--in", str(junk))
    assert code == 2
    assert err.count("\n") == 1
    assert "backup" in err


@pytest.mark.parametrize("backend", ["sqlite"])
def test_sqlite_backup_while_a_writer_holds_a_transaction(
    shop: Shop,
    db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A running server's open write transaction neither blocks the backup nor leaks into
    it: the backup holds what was committed."""
    path = make_url(db_url).database
    assert path is not None
    writer = sqlite3.connect(path, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE vendors SET name = 'uncommitted' WHERE id = ?", (shop.vendor_id,))
        out_file = tmp_path / "live.backup"
        code, _out, err = _db(capsys, "backup", "--database", db_url, "--out", str(out_file))
        assert (code, err) == (0, "")
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    copy = sqlite3.connect(out_file)
    try:
        names = [r[0] for r in copy.execute("SELECT name FROM vendors")]
    finally:
        copy.close()
    assert "uncommitted" not in names
    assert "Float Kiosk" in names


@pytest.mark.parametrize("backend", ["sqlite"])
def test_backup_refuses_to_overwrite_the_database(
    shop: Shop,
    db_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``--out`` naming the SQLite file itself is refused (exit 2), the database intact."""
    path = make_url(db_url).database
    assert path is not None
    before = _rows(db_url)
    code, _out, err = _db(capsys, "backup", "--database", db_url, "--out", path)
    assert code == 2
    assert "the database itself" in err
    assert _rows(db_url) == before


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgresql"])
def test_pg_password_is_never_printed(
    db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """With a password in the URL: a backup (trust auth accepts it) and a failing
    unreachable server both print it nowhere."""
    with_pw = make_url(db_url).set(password=SECRET).render_as_string(hide_password=False)
    code, out, err = _db(
        capsys, "backup", "--database", with_pw, "--out", str(tmp_path / "pw.backup")
    )
    assert code == 0
    assert SECRET not in out + err
    assert "***" in out
    unreachable = (
        make_url(with_pw).set(host="127.0.0.1", port=1).render_as_string(hide_password=False)
    )
    for argv in (
        ["backup", "--database", unreachable, "--out", str(tmp_path / "x")],
        ["restore", "--database", unreachable, "--in", str(tmp_path / "pw.backup")],
    ):
        code, out, err = _db(capsys, *argv)
        assert code == 2
        assert out == ""
        assert err.count("\n") == 1
        assert SECRET not in err
        assert "cannot use the database" in err


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgresql"])
def test_pg_tools_missing_is_one_line(
    db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """STSGAS_PG_BIN_DIR naming a folder without pg_dump: exit 2, one line saying what to
    install, and no backup file."""
    monkeypatch.setenv("STSGAS_PG_BIN_DIR", str(tmp_path / "no-tools"))
    out_file = tmp_path / "x.backup"
    code, out, err = _db(capsys, "backup", "--database", db_url, "--out", str(out_file))
    assert (code, out) == (2, "")
    assert err.count("\n") == 1
    assert "pg_dump not found" in err
    assert "postgresql-client" in err
    assert not out_file.exists()
