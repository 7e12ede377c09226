"""Cancel is exactly once: real concurrent HTTP cancels of one sale on a real server."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from stsgas.cli import main
from stsgas.vending.db import make_sessionmaker
from stsgas.vending.ledger.repository import LedgerRepository
from stsgas.vending.models import AuditEntry, LedgerEntry, Vendor
from tests.vending.conftest import auth
from tests.vending.sales.conftest import FLOAT, Shop
from tests.vending.sales.live import serve
from tests.vending.sales.test_service import sell

CANCELLERS = 6


def _concurrent_cancels(base_url: str, token: str, sale_id: int) -> list[httpx.Response]:
    """CANCELLERS threads send the same cancel at once (a double click, many times over)."""
    barrier = threading.Barrier(CANCELLERS)

    def cancel(_: int) -> httpx.Response:
        with httpx.Client(base_url=base_url, timeout=60) as c:
            barrier.wait(timeout=30)
            return c.post(f"/api/v1/sales/{sale_id}/cancel", json={"reason": "double click"},
                          headers=auth(token))

    with ThreadPoolExecutor(CANCELLERS) as pool:
        return list(pool.map(cancel, range(CANCELLERS)))


def _check(db_url: str, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    code = main(["check", "--database", db_url])
    report: dict[str, Any] = json.loads(capsys.readouterr().out)
    assert code == 0, report
    return report


def test_concurrent_cancels_refund_once(
    app: Any, client: TestClient, shop: Shop, engine: Engine, db_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """N cancels of one sale at once: one 200, the rest 409 ``sale_cancelled``; the float
    is refunded once, the ledger reversed once, and ``stsgas check`` finds it sound."""
    sale = sell(client, shop.cashier_token, shop.amount_pan, "25").json()
    with serve(app) as base_url:
        answers = _concurrent_cancels(base_url, shop.supervisor_token, sale["sale_id"])
    codes = sorted(r.status_code for r in answers)
    assert codes == [200] + [409] * (CANCELLERS - 1), [r.text for r in answers]
    refused = [r.json() for r in answers if r.status_code == 409]
    assert {p["code"] for p in refused} == {"sale_cancelled"}
    with make_sessionmaker(engine)() as s:
        assert s.get(Vendor, shop.vendor_id).float_balance == FLOAT  # type: ignore[union-attr]
        debit, credit = LedgerRepository(s).totals()
        assert debit == credit == 2 * 2500  # the sale and its one reversal
        reversals = s.execute(select(func.count(func.distinct(LedgerEntry.journal))).where(
            LedgerEntry.memo.like("cancel%"))).scalar_one()
        assert reversals == 1
        audited = s.execute(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "sale.cancel")).scalar_one()
        assert audited == 1
    report = _check(db_url, capsys)
    assert report["sales_cancelled"] == "25.00"
    assert report["sales_with_wrong_journal"] == []
