"""The request's transaction (``deps.get_session``): a read never writes, a write commits
through ``transaction.run``, what an endpoint wrote without it is committed with a warning,
and an error rolls everything back (both databases)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, update

from stsgas.vending import transaction
from stsgas.vending.db import make_sessionmaker
from stsgas.vending.deps import SessionDep, UncommittedWrite
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

    def add_in_run(session: SessionDep, name: str) -> dict[str, str]:
        return transaction.run(session, lambda: add(session, name))

    def rename(session: SessionDep, name: str) -> dict[str, str]:
        session.execute(update(Vendor).where(Vendor.name == "by-post").values(name=name))
        return {"renamed": name}

    fastapi_app.add_api_route("/probe/read", add, methods=["GET"])
    fastapi_app.add_api_route("/probe/write", add_in_run, methods=["POST"])
    fastapi_app.add_api_route("/probe/unrun", add, methods=["POST"])
    fastapi_app.add_api_route("/probe/rename", rename, methods=["POST"])


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


def test_a_write_outside_transaction_run_is_committed_with_a_warning(
    app: Any, engine: Engine
) -> None:
    """A forgotten ``run`` (an ORM flush, or an ORM UPDATE statement) still commits once,
    and says so; a write through ``run`` says nothing (the suite turns warnings into
    errors, so every endpoint the tests reach commits through ``run``)."""
    _probe(app)
    before = _vendors(engine)
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.post("/probe/write", params={"name": "by-post"}).status_code == 200
        with pytest.warns(UncommittedWrite, match="POST /probe/unrun wrote outside"):
            assert client.post("/probe/unrun", params={"name": "unrun"}).status_code == 200
        with pytest.warns(UncommittedWrite, match="POST /probe/rename wrote outside"):
            assert client.post("/probe/rename", params={"name": "renamed"}).status_code == 200
    assert _vendors(engine) == sorted([*before, "renamed", "unrun"])
