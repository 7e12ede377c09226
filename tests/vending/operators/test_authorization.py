"""Each role can do only its own things: one table of (endpoint, roles allowed)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from stsgas.vending.models import Operator, Role
from stsgas.vending.operators.permissions import ROLE_PERMISSIONS, Permission
from tests.vending.conftest import auth

A, S, C, U = Role.ADMIN, Role.SUPERVISOR, Role.CASHIER, Role.AUDITOR

#: (method, path, json body, roles that may call it)
TABLE: list[tuple[str, str, dict[str, Any] | None, set[Role]]] = [
    ("GET", "/api/v1/operators", None, {A}),
    (
        "POST",
        "/api/v1/operators",
        {"username": "n", "role": "auditor", "password": "12345678"},
        {A},
    ),
    ("GET", "/api/v1/operators/999", None, {A}),
    ("POST", "/api/v1/operators/999/disable", None, {A}),
    ("POST", "/api/v1/operators/999/password", {"password": "12345678"}, {A}),
    ("GET", "/api/v1/operators/999/tokens", None, {A}),
    ("POST", "/api/v1/operators/999/unlock", None, {A}),
    ("GET", "/api/v1/management/requests", None, {S}),
    ("GET", "/api/v1/vendors", None, {A}),
    ("POST", "/api/v1/vendors", {"name": "v2"}, {A}),
    ("GET", "/api/v1/supply-groups", None, {A, S, U}),
    ("POST", "/api/v1/supply-groups", {"sgc": "1", "krn": 1, "vending_key": "00"}, {A}),
    ("GET", "/api/v1/supply-groups/warnings", None, {A, S, C}),
    ("GET", "/api/v1/customers", None, {A, S, C, U}),
    ("POST", "/api/v1/customers", {"name": "N"}, {A, S}),
    ("GET", "/api/v1/meters", None, {A, S, C, U}),
    ("POST", "/api/v1/meters", {"number": "1", "mode": "volume", "supply_group_id": 1}, {A, S}),
    ("GET", "/api/v1/meters/01000000009/lookup", None, {A, S, C}),
    ("GET", "/api/v1/tariffs", None, {A, S, C, U}),
    ("POST", "/api/v1/tariffs", {"name": "t"}, {A}),
    ("GET", "/api/v1/audit", None, {A, U}),
    ("GET", "/api/v1/audit/verify", None, {A, U}),
]


@pytest.fixture
def tokens(
    make_operator: Callable[..., tuple[Operator, str]],
) -> dict[Role, str]:
    """One bearer token per role."""
    return {role: make_operator(role)[1] for role in Role}


def test_each_role_can_do_only_its_own_things(client: TestClient, tokens: dict[Role, str]) -> None:
    """Allowed roles get past authorization (not 401/403); every other role gets 403."""
    wrong = []
    for method, path, body, allowed in TABLE:
        for role, token in tokens.items():
            r = client.request(method, path, json=body, headers=auth(token))
            ok = r.status_code not in (401, 403)
            if ok != (role in allowed):
                wrong.append(f"{role.value} {method} {path} -> {r.status_code}")
    assert wrong == []


def test_unauthenticated_requests_are_401(client: TestClient) -> None:
    """Without a token every endpoint in the table answers 401."""
    codes = {client.request(m, p, json=b).status_code for m, p, b, _ in TABLE}
    assert codes == {401}


def test_cashier_sees_only_its_own_vendor(
    client: TestClient, make_operator: Callable[..., tuple[Operator, str]]
) -> None:
    """A cashier reads its own vendor's float but gets 403 for another vendor (BOLA)."""
    cashier, token = make_operator(C)
    other, _ = make_operator(C)
    assert (
        client.get(f"/api/v1/vendors/{cashier.vendor_id}", headers=auth(token)).status_code == 200
    )
    r = client.get(f"/api/v1/vendors/{other.vendor_id}", headers=auth(token))
    assert (r.status_code, r.json()["code"]) == (403, "forbidden")


def test_logout_revokes_the_token(
    client: TestClient, make_operator: Callable[..., tuple[Operator, str]]
) -> None:
    """After /auth/logout the same token is refused."""
    _, token = make_operator(S)
    assert client.post("/api/v1/auth/logout", headers=auth(token)).status_code == 204
    assert client.get("/api/v1/auth/me", headers=auth(token)).status_code == 401


def test_permission_table_is_least_privilege() -> None:
    """Only admins manage operators and keys; only supervisors cancel; auditors never write."""
    holders = {p: {r for r, ps in ROLE_PERMISSIONS.items() if p in ps} for p in Permission}
    assert holders[Permission.OPERATORS_MANAGE] == {A}
    assert holders[Permission.SUPPLY_GROUPS_MANAGE] == {A}
    assert holders[Permission.SALES_CANCEL] == {S}
    writes = {p for p in Permission if not p.value.endswith((".read", ".read_all", ".lookup"))}
    assert not (ROLE_PERMISSIONS[U] & writes)
