"""SQLite and PostgreSQL answer alike at the edges: 422 invalid_input, never 500 or a store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.vending.conftest import auth
from tests.vending.sales.conftest import counts

CASES: list[dict[str, Any]] = json.loads(
    (
        Path(__file__).resolve().parent.parent / "data" / "vending" / "extreme-inputs.json"
    ).read_text()
)["cases"]


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_edge_values_are_422_on_both_databases(
    app: FastAPI,
    engine: Engine,
    admin_token: str,
    supervisor_token: str,
    case: dict[str, Any],
) -> None:
    """Integers past 2^63, NUL characters, dates off the calendar: 422, nothing written."""
    headers = {"admin": auth(admin_token), "supervisor": auth(supervisor_token), "nobody": {}}[
        case["as"]
    ]
    before = counts(engine)
    with TestClient(app, raise_server_exceptions=False) as client:
        r = client.request(case["method"], case["path"], json=case.get("body"), headers=headers)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "invalid_input"
    assert counts(engine) == before
