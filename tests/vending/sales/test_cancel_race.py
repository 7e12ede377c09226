"""Cancel is exactly once: real concurrent HTTP cancels of one sale on a real server."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select

from stsgas.vending.db import make_sessionmaker
from stsgas.vending.ledger.repository import LedgerRepository
from stsgas.vending.models import AuditEntry, LedgerEntry, Operator, Role, Sale, Token, Vendor
from tests.vending.conftest import auth, integrity
from tests.vending.sales.conftest import FLOAT, Shop
from tests.vending.sales.live import serve

CANCELLERS = 6


@pytest.fixture
def live(app: Any, shop: Shop) -> Iterator[str]:
    """The app on a real uvicorn server (the only one running its lifespan)."""
    with serve(app) as base_url:
        yield base_url


def _post(base_url: str, path: str, token: str, body: dict[str, Any]) -> httpx.Response:
    with httpx.Client(base_url=base_url, timeout=60) as c:
        return c.post(path, json=body, headers=auth(token))


def _sold_then_take_back_asked(base_url: str, shop: Shop) -> tuple[dict[str, Any], httpx.Response]:
    """A 25 sale whose token was used, then a supervisor's cancel: a pending take-back."""
    sale: dict[str, Any] = _post(
        base_url,
        "/api/v1/sales",
        shop.cashier_token,
        {"meter_number": shop.amount_pan, "amount": "25"},
    ).json()
    asked = _post(
        base_url,
        f"/api/v1/sales/{sale['sale_id']}/cancel",
        shop.supervisor_token,
        {"reason": "entered on the wrong meter", "token_used": True},
    )
    return sale, asked


Call = tuple[str, str, dict[str, Any]]  # (path, bearer token, JSON body)


def _at_once(base_url: str, calls: list[Call]) -> list[httpx.Response]:
    """POST every call from its own thread, released together by a barrier."""
    barrier = threading.Barrier(len(calls))

    def post(call: Call) -> httpx.Response:
        path, token, body = call
        with httpx.Client(base_url=base_url, timeout=60) as c:
            barrier.wait(timeout=30)
            return c.post(path, json=body, headers=auth(token))

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(post, calls))


def _concurrent_cancels(base_url: str, token: str, sale_id: int) -> list[httpx.Response]:
    """CANCELLERS threads send the same cancel at once (a double click, many times over)."""
    call = (f"/api/v1/sales/{sale_id}/cancel", token, {"reason": "double click"})
    return _at_once(base_url, [call] * CANCELLERS)


def test_concurrent_cancels_refund_once(
    live: str,
    shop: Shop,
    engine: Engine,
    db_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """N cancels of one sale at once: one 200, the rest 409 ``sale_cancelled``; the float
    is refunded once, the ledger reversed once, and ``stsgas check`` finds it sound."""
    sale = _post(
        live, "/api/v1/sales", shop.cashier_token, {"meter_number": shop.amount_pan, "amount": "25"}
    ).json()
    answers = _concurrent_cancels(live, shop.supervisor_token, sale["sale_id"])
    codes = sorted(r.status_code for r in answers)
    assert codes == [200] + [409] * (CANCELLERS - 1), [r.text for r in answers]
    refused = [r.json() for r in answers if r.status_code == 409]
    assert {p["code"] for p in refused} == {"sale_cancelled"}
    with make_sessionmaker(engine)() as s:
        assert s.get(Vendor, shop.vendor_id).float_balance == FLOAT  # type: ignore[union-attr]
        debit, credit = LedgerRepository(s).totals()
        assert debit == credit == 2 * 2500  # the sale and its one reversal
        reversals = s.execute(
            select(func.count(func.distinct(LedgerEntry.journal))).where(
                LedgerEntry.memo.like("cancel%")
            )
        ).scalar_one()
        assert reversals == 1
        audited = s.execute(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "sale.cancel")
        ).scalar_one()
        assert audited == 1
    report = integrity(db_url, capsys)
    assert report["sales_cancelled"] == "25.00"
    assert report["sales_with_wrong_journal"] == []


def _moved_once(engine: Engine, shop: Shop, paid: int, sale_id: int) -> None:
    """The sale is cancelled and its money moved back exactly once."""
    with make_sessionmaker(engine)() as s:
        assert s.get(Vendor, shop.vendor_id).float_balance == FLOAT  # type: ignore[union-attr]
        assert s.get(Sale, sale_id).status == "cancelled"  # type: ignore[union-attr]
        debit, credit = LedgerRepository(s).totals()
        assert debit == credit == 2 * paid
        audited = s.execute(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "sale.cancel")
        ).scalar_one()
        assert audited == 1


def test_concurrent_approvals_of_a_take_back_issue_once(
    live: str,
    shop: Shop,
    engine: Engine,
    db_url: str,
    make_operator: Callable[..., tuple[Operator, str]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Several supervisors approve one take-back at once: one gets the token, the others
    409; one negative token, one refund; the books check out."""
    approvers = [make_operator(Role.SUPERVISOR, username=f"approver{i}")[1] for i in range(4)]
    sale, asked = _sold_then_take_back_asked(live, shop)
    assert asked.status_code == 202, asked.text
    path = f"/api/v1/management/requests/{asked.json()['request']['id']}/approve"
    answers = _at_once(live, [(path, t, {}) for t in approvers])
    assert sorted(r.status_code for r in answers) == [200, 409, 409, 409], [r.text for r in answers]
    assert {r.json()["code"] for r in answers if r.status_code == 409} == {"conflict"}
    with make_sessionmaker(engine)() as s:
        tokens = s.execute(
            select(func.count()).select_from(Token).where(Token.management_request_id.is_not(None))
        ).scalar_one()
    assert tokens == 1
    _moved_once(engine, shop, 2500, sale["sale_id"])
    assert integrity(db_url, capsys)["sales_with_wrong_journal"] == []


def test_a_void_racing_a_take_back_approval_moves_money_once(
    live: str,
    shop: Shop,
    engine: Engine,
    db_url: str,
    make_operator: Callable[..., tuple[Operator, str]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Voids and the approval of a pending take-back at once: whichever way it falls,
    the sale is cancelled once and every loser gets 409 with a problem code."""
    second = make_operator(Role.SUPERVISOR, username="approver")[1]
    sale, asked = _sold_then_take_back_asked(live, shop)
    approve: Call = (
        f"/api/v1/management/requests/{asked.json()['request']['id']}/approve",
        second,
        {},
    )
    void = (
        f"/api/v1/sales/{sale['sale_id']}/cancel",
        shop.supervisor_token,
        {"reason": "double click"},
    )
    answers = _at_once(live, [approve, void, void, void])
    won = [r for r in answers if r.status_code in (200, 202)]
    assert len(won) == 1, [r.text for r in answers]
    lost = [r for r in answers if r not in won]
    assert all(r.status_code == 409 for r in lost), [r.text for r in lost]
    assert {r.json()["code"] for r in lost} <= {"cancel_pending", "sale_cancelled"}
    _moved_once(engine, shop, 2500, sale["sale_id"])
    assert integrity(db_url, capsys)["sales_with_wrong_journal"] == []
