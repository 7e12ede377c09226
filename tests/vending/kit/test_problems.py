"""Errors are problem+json with a stable code, and a failed request writes nothing."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from stsgas.sts import CrcError
from stsgas.vending import transaction
from stsgas.vending.db import make_sessionmaker
from stsgas.vending.deps import SessionDep
from stsgas.vending.errors import MeterNotFound
from stsgas.vending.models import Vendor


def _client(app: FastAPI) -> TestClient:
    router = APIRouter()

    @router.post("/boom/vending")
    def boom_vending(session: SessionDep) -> None:
        session.add(Vendor(name="half-written", float_balance=0))
        session.flush()
        raise MeterNotFound("no meter 600727...", pan="x")

    @router.get("/boom/sts")
    def boom_sts() -> None:
        raise CrcError("token CRC does not match")

    @router.post("/ok")
    def ok(session: SessionDep) -> dict[str, int]:
        def unit() -> dict[str, int]:
            v = Vendor(name="kept", float_balance=0)
            session.add(v)
            session.flush()
            return {"id": v.id}

        return transaction.run(session, unit)  # as every endpoint that writes

    app.include_router(router)
    return TestClient(app)


def test_domain_error_renders_problem_json_and_rolls_back(app: FastAPI, engine: Engine) -> None:
    """A VendingError gives its status/code in problem+json; its writes are rolled back."""
    with _client(app) as client:
        r = client.post("/boom/vending")
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["code"] == "meter_not_found"
    assert {"type", "title", "status", "detail", "code"} <= set(body)
    assert body["pan"] == "x"
    with make_sessionmaker(engine)() as s:
        assert s.execute(select(func.count()).select_from(Vendor)).scalar() == 0


def test_success_commits_before_the_response(app: FastAPI, engine: Engine) -> None:
    """A successful request's writes are committed when the response arrives."""
    with _client(app) as client:
        r = client.post("/ok")
    assert r.status_code == 200
    with make_sessionmaker(engine)() as s:
        assert s.get(Vendor, r.json()["id"]) is not None


def test_sts_error_maps_by_its_code(app: FastAPI) -> None:
    """An StsError is a 422 whose code is the library's own (crc)."""
    with _client(app) as client:
        r = client.get("/boom/sts")
    assert r.status_code == 422
    assert r.json()["code"] == "crc"


def test_validation_and_unknown_routes_are_problem_json(client: TestClient) -> None:
    """Malformed bodies give invalid_input; unknown paths give not_found."""
    r = client.post("/api/v1/auth/login", json={"username": ""})
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_input"
    r = client.get("/api/v1/nothing-here")
    assert r.status_code == 404
    assert r.json()["code"] == "not_found"


def test_openapi_document_is_served(client: TestClient) -> None:
    """The OpenAPI document lives at /api/v1/openapi.json."""
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    assert "/api/v1/auth/login" in r.json()["paths"]


def test_sqlite_reads_do_not_take_the_write_lock(app: FastAPI, backend: str) -> None:
    """On SQLite a GET runs in a DEFERRED transaction, a POST in an IMMEDIATE one."""
    router = APIRouter()

    @router.api_route("/mode", methods=["GET", "POST"])
    def mode(session: SessionDep) -> dict[str, str]:
        opts = session.connection().get_execution_options()
        return {"mode": str(opts.get("sqlite_begin", "IMMEDIATE"))}

    app.include_router(router)
    with TestClient(app) as client:
        got = (client.get("/mode").json()["mode"], client.post("/mode").json()["mode"])
    assert got == (("DEFERRED", "IMMEDIATE") if backend == "sqlite" else ("IMMEDIATE", "IMMEDIATE"))


def test_constraint_violation_at_commit_is_409_conflict(app: FastAPI, engine: Engine) -> None:
    """A unique violation found only at commit gives 409 conflict, not a 500 or a 200
    (``transaction.run`` runs a unique-key race again once, then lets it through)."""
    router = APIRouter()

    @router.post("/dup")
    def dup(session: SessionDep) -> dict[str, str]:
        def unit() -> dict[str, str]:
            session.add(Vendor(name="same", float_balance=0))
            return {"result": "should not be seen"}

        return transaction.run(session, unit)

    app.include_router(router)
    with TestClient(app) as client:
        assert client.post("/dup").status_code == 200
        r = client.post("/dup")
    assert (r.status_code, r.json()["code"]) == (409, "conflict")
    with make_sessionmaker(engine)() as s:
        assert s.execute(select(func.count()).select_from(Vendor)).scalar() == 1
