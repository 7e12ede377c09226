"""The request guard: 413 before a large body is read, problem+json 500s with a request id."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from starlette.types import Message, Scope

from stsgas.vending.app import create_app
from stsgas.vending.keys.security import SoftwareSecurityModule
from stsgas.vending.kit.localtime import vending_zone
from stsgas.vending.settings import Settings
from tests.problems import problem as check_problem
from tests.vending.conftest import app_with, auth
from tests.vending.sales.conftest import Shop, counts

LIMIT = 2_048
#: requests to every kind of endpoint: JSON API (both sale paths), form pages, the SMS hook
BODY_CASES: list[dict[str, Any]] = json.loads(
    (Path(__file__).resolve().parents[2] / "data" / "vending" / "large-bodies.json").read_text()
)["cases"]


@pytest.fixture
def small_client(
    settings: Settings,
    engine: Engine,
    security_module: SoftwareSecurityModule,
    request: pytest.FixtureRequest,
) -> Iterator[TestClient]:
    """The app with a body limit of LIMIT bytes; ``fast`` param: the event-loop sale path."""
    fast = getattr(request, "param", True)
    app = app_with(settings, engine, security_module, max_body_bytes=LIMIT, fast_sales=fast)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.mark.parametrize("small_client", [True, False], ids=["fast-on", "fast-off"], indirect=True)
@pytest.mark.parametrize("case", BODY_CASES, ids=[c["path"] for c in BODY_CASES])
def test_a_declared_large_body_is_413_and_writes_nothing(
    small_client: TestClient, shop: Shop, engine: Engine, case: dict[str, Any]
) -> None:
    """Content-Length over the limit: 413 body_too_large, whoever asks, nothing written."""
    before = counts(engine)
    body = case["body"].replace("{pan}", shop.volume_pan) + " " * LIMIT
    r = small_client.post(
        case["path"],
        content=body.encode(),
        headers={**auth(shop.cashier_token), "Content-Type": case["type"]},
    )
    problem = check_problem(r, 413, "body_too_large")
    assert problem["request_id"] == r.headers["x-request-id"]
    assert counts(engine) == before


@pytest.mark.parametrize("small_client", [True, False], ids=["fast-on", "fast-off"], indirect=True)
def test_a_sale_just_under_the_limit_still_sells(small_client: TestClient, shop: Shop) -> None:
    """The limit refuses only what passes it: a padded sale body under it sells."""
    body = json.dumps({"meter_number": shop.volume_pan, "amount": "10.00"})
    body += " " * (LIMIT - len(body))
    r = small_client.post(
        "/api/v1/sales",
        content=body.encode(),
        headers={**auth(shop.cashier_token), "Content-Type": "application/json"},
    )
    assert r.status_code == 201, r.text


@pytest.mark.parametrize(
    ("path", "ctype"),
    [
        ("/api/v1/sales", b"application/json"),
        ("/api/v1/customers", b"application/json"),
        ("/api/v1/tariffs", b"application/json"),
        ("/console/login", b"application/x-www-form-urlencoded"),
    ],
)
def test_a_streamed_body_is_cut_off_at_the_limit(
    small_client: TestClient, shop: Shop, path: str, ctype: bytes
) -> None:
    """No Content-Length, a long body: the app reads just past the limit and answers 413."""
    pulled = 0
    sent: list[Message] = []

    async def receive() -> Message:
        nonlocal pulled
        pulled += 1  # 32 KiB in all: an app that reads it whole still ends
        return {"type": "http.request", "body": b" " * 512, "more_body": pulled < 64}

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", ctype),
            (b"authorization", f"Bearer {shop.cashier_token}".encode()),
        ],
        "app": small_client.app,
        "state": {},
    }
    assert small_client.portal is not None
    small_client.portal.call(small_client.app, scope, receive, send)
    start = sent[0]
    assert start["type"] == "http.response.start"
    assert start["status"] == 413
    assert pulled == LIMIT // 512 + 1  # it stopped at the first chunk past the limit
    body = json.loads(b"".join(m.get("body", b"") for m in sent[1:]))
    assert body["code"] == "body_too_large"


def _boom_app(settings: Settings, engine: Engine, security: SoftwareSecurityModule) -> Any:
    app = create_app(settings, engine=engine, security_module=security)
    router = APIRouter()

    @router.get("/boom")
    def boom() -> None:
        raise RuntimeError("a bug nobody handled")

    app.include_router(router)
    return app


def test_an_unhandled_error_is_a_problem_500_with_a_request_id(
    settings: Settings,
    engine: Engine,
    security_module: SoftwareSecurityModule,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A bug answers problem+json 500 internal_error whose request id is logged with it."""
    app = _boom_app(settings, engine, security_module)
    with (
        caplog.at_level(logging.ERROR, logger="stsgas.vending.requests"),
        TestClient(app, raise_server_exceptions=False) as client,
    ):
        r = client.get("/boom")
    problem = check_problem(r, 500, "internal_error")
    rid = r.headers["x-request-id"]
    assert problem["request_id"] == rid
    assert "a bug nobody handled" not in r.text  # the client is not shown internals
    logged = [rec for rec in caplog.records if rid in rec.getMessage()]
    assert logged
    assert logged[0].exc_info is not None


def test_every_answer_carries_a_request_id(client: TestClient, cashier_token: str) -> None:
    """A sane X-Request-ID from the client is echoed; otherwise each answer gets a new one."""
    r = client.get("/api/v1/auth/me", headers={**auth(cashier_token), "X-Request-ID": "pos-7.42"})
    assert (r.status_code, r.headers["x-request-id"]) == (200, "pos-7.42")
    one = client.get("/api/v1/auth/me", headers={"X-Request-ID": "bad id\twith spaces"})
    two = client.get("/api/v1/auth/me")
    assert one.status_code == two.status_code == 401
    ids = {one.headers["x-request-id"], two.headers["x-request-id"]}
    assert len(ids) == 2
    assert all(len(i) == 32 for i in ids)


def test_request_ids_made_in_a_forked_worker_are_its_own() -> None:
    """uvicorn forks its workers after the app module is imported: each worker's ids
    start with its own prefix, so two workers never give two requests one id."""
    from stsgas.vending.kit import guard

    mine = guard._IDS.next()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: send its first id and leave at once
        os.write(write, guard._IDS.next())
        os._exit(0)
    os.close(write)
    theirs = os.read(read, 64)
    os.close(read)
    os.waitpid(pid, 0)
    assert len(theirs) == len(mine) == 32
    assert theirs[:24] != mine[:24]
    assert guard._IDS.next() != mine  # and the parent's counter moves on


def test_the_guard_serves_each_request_in_the_utilitys_time_zone(
    settings: Settings, engine: Engine, security_module: SoftwareSecurityModule
) -> None:
    """STSGAS_TIMEZONE reaches the sale path: inside a request (a worker thread, as the
    sale route runs) the vending zone is the setting's; outside, UTC."""
    local = settings.model_copy(update={"timezone": "Africa/Nairobi"})
    app = create_app(local, engine=engine, security_module=security_module)
    router = APIRouter()

    @router.get("/zone")
    def where() -> dict[str, str]:
        return {"zone": str(vending_zone.get())}

    app.include_router(router)
    with TestClient(app) as client:
        assert client.get("/zone").json() == {"zone": "Africa/Nairobi"}
    assert vending_zone.get() is UTC
