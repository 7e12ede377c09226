"""The request's transaction (``deps.get_session``): a read never writes, a write commits
when the endpoint returns, and an error rolls everything back (both databases)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from stsgas.vending.db import make_sessionmaker
from stsgas.vending.deps import SessionDep
from stsgas.vending.models import Vendor


def _probe(app: Any) -> None:
    """Routes that add a vendor under each method (a read adding one is a bug it must
    not be able to commit)."""
    fastapi_app: FastAPI = app

    def add(session: SessionDep, name: str) -> dict[str, str]:
        session.add(Vendor(name=name, float_balance=0))
        session.flush()
        if name.startswith("fail"):
            raise RuntimeError("the endpoint failed after writing")
        return {"added": name}

    fastapi_app.add_api_route("/probe/read", add, methods=["GET"])
    fastapi_app.add_api_route("/probe/write", add, methods=["POST"])


def _vendors(engine: Engine) -> list[str]:
    with make_sessionmaker(engine)() as s:
        return list(s.execute(select(Vendor.name).order_by(Vendor.name)).scalars())


def test_a_read_writes_nothing_a_write_commits_an_error_rolls_back(
    app: Any, engine: Engine
) -> None:
    _probe(app)
    before = _vendors(engine)
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/probe/read", params={"name": "by-get"}).status_code == 200
        assert client.post("/probe/write", params={"name": "by-post"}).status_code == 200
        assert client.post("/probe/write", params={"name": "fail-post"}).status_code == 500
    assert _vendors(engine) == sorted([*before, "by-post"])
    with make_sessionmaker(engine)() as s:
        assert s.execute(select(func.count()).select_from(Vendor)).scalar_one() == len(before) + 1
