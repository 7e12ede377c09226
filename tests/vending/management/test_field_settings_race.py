"""One field-settings request approved by two supervisors at the same moment, over real
HTTP on a real server: one command is signed, once."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select

from stsgas.vending.db import make_sessionmaker
from stsgas.vending.models import AuditEntry, ManagementRequest, Operator, Role
from tests.vending.conftest import auth
from tests.vending.sales.conftest import Shop
from tests.vending.sales.live import serve

EACH = 3  # approvals per supervisor, all released together


@pytest.fixture
def live(app: Any, shop: Shop) -> Iterator[str]:
    """The app on a real uvicorn server."""
    with serve(app) as base_url:
        yield base_url


def test_concurrent_approvals_sign_one_command(
    live: str,
    shop: Shop,
    engine: Engine,
    make_operator: Callable[..., tuple[Operator, str]],
) -> None:
    """Two supervisors each press approve three times at once: the first to lock the
    request signs it; its own repeats get the same command back (replayed), the other
    supervisor gets 409. One mgmt.approve entry, one stored command."""
    tokens = [make_operator(Role.SUPERVISOR)[1] for _ in range(2)]
    with httpx.Client(base_url=live, timeout=60) as c:
        asked = c.post(
            "/api/v1/management/requests",
            json={
                "meter_number": shop.volume_pan,
                "kind": "field_settings",
                "params": {"seq": 9, "excess_flow_m3h": "6", "excess_flow_s": 30},
                "reason": "bigger appliance fitted",
            },
            headers=auth(shop.supervisor_token),
        )
    assert asked.status_code == 201, asked.text
    path = f"/api/v1/management/requests/{asked.json()['id']}/approve"
    barrier = threading.Barrier(2 * EACH)

    def approve(token: str) -> httpx.Response:
        with httpx.Client(base_url=live, timeout=60) as c:
            barrier.wait(timeout=30)
            return c.post(path, headers=auth(token))

    with ThreadPoolExecutor(2 * EACH) as pool:
        answers = list(pool.map(approve, tokens * EACH))

    ok = [r for r in answers if r.status_code == 200]
    assert sorted(r.status_code for r in answers) == [200] * EACH + [409] * EACH, [
        r.text for r in answers
    ]
    assert len({r.json()["ir_command"] for r in ok}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") != "true" for r in ok) == 1
    with make_sessionmaker(engine)() as s:
        req = s.get(ManagementRequest, asked.json()["id"])
        assert req is not None
        assert (req.status, req.ir_command) == ("issued", ok[0].json()["ir_command"])
        approvals = s.execute(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "mgmt.approve")
        ).scalar_one()
        assert approvals == 1
