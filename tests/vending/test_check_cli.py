"""``stsgas check``: the daily integrity check exits 0 on a sound database, 1 on a
tampered one, 2 when there is no database to read — on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, update

from stsgas.cli import main
from stsgas.vending.db import make_sessionmaker
from stsgas.vending.models import AuditEntry, Sale
from tests.vending.sales.conftest import Shop
from tests.vending.sales.test_service import sell


def _check(db_url: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, object]]:
    code = main(["check", "--database", db_url])
    out = capsys.readouterr().out
    return code, (json.loads(out) if out.strip() else {})


def test_sound_then_tampered(
    client: TestClient,
    shop: Shop,
    engine: Engine,
    db_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Sales and audited changes check out; a sale's amount changed behind the service
    fails the sales chain, an audit entry changed fails the audit chain."""
    ids = []
    for amount in ("10", "12.50"):
        r = sell(client, shop.cashier_token, shop.volume_pan, amount)
        assert r.status_code == 201
        ids.append(r.json()["sale_id"])
    code, report = _check(db_url, capsys)
    assert (code, report["ok"]) == (0, True)
    assert report["audit_chain"]["ok"] is True  # type: ignore[index]

    with make_sessionmaker(engine).begin() as s:
        s.execute(
            update(Sale)
            .where(Sale.id == ids[0])
            .values(energy_amount=Sale.energy_amount + 1, tax=Sale.tax - 1)
        )
    code, report = _check(db_url, capsys)
    assert (code, report["ok"]) == (1, False)
    assert report["meters_with_broken_sales_chain"] != []

    with make_sessionmaker(engine).begin() as s:
        s.execute(update(AuditEntry).where(AuditEntry.seq == 1).values(action="tampered"))
    code, report = _check(db_url, capsys)
    assert code == 1
    assert report["audit_chain"] == {
        "ok": False,
        "entries": 1,
        "first_bad_seq": 1,
        "reason": "hash",
    }


def test_no_database_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A SQLite path that does not exist: exit 2 and a message, no file created."""
    missing = tmp_path / "nope.db"
    assert main(["check", "--database", f"sqlite:///{missing}"]) == 2
    assert "no database file" in capsys.readouterr().err
    assert not missing.exists()
