"""Schemathesis over the REST API's own OpenAPI document (RELIABILITY T4): whatever
the schema allows a client to send, authenticated as an admin, the service answers
without a server error — on SQLite and PostgreSQL."""

from __future__ import annotations

import os
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.core.result import Err, Ok

EXAMPLES = int(os.environ.get("STSGAS_FUZZ_EXAMPLES", "10"))


def test_no_request_makes_a_server_error(app: Any, admin_token: str) -> None:
    """For every operation, requests generated from its schema get 2xx/4xx, never 5xx."""
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    headers = {"Authorization": f"Bearer {admin_token}"}
    results = list(schema.get_all_operations())
    assert all(isinstance(r, Ok) for r in results), [r.err() for r in results if isinstance(r, Err)]
    operations = [r.ok() for r in results if isinstance(r, Ok)]
    assert len(operations) > 30  # the whole API, not an empty document

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            response = case.call(headers=headers)
            assert response.status_code < 500, (case.as_curl_command(), response.text[:400])

        run()


def test_an_id_beyond_64_bits_is_a_422_not_a_crash(
    client: Any, admin_token: str, supervisor_token: str
) -> None:
    """Found by the run above: an id past 2^63 - 1 reached the driver and overflowed.
    (Management requests are read by supervisors: admins have no such duty.)"""
    for path, token in (
        ("/api/v1/sales/9223372036854775808", admin_token),
        ("/api/v1/meters/9223372036854775808", admin_token),
        ("/api/v1/management/requests/99999999999999999999", supervisor_token),
    ):
        r = client.get(path, headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 422, (path, r.text)
        assert r.json()["code"] == "invalid_input"


def test_values_the_database_refuses_are_a_422(client: Any, admin_token: str) -> None:
    """Found by the deeper run: a NUL character in text (PostgreSQL refuses it) or an
    offset past 64 bits reached the database and answered 500."""
    headers = {"Authorization": f"Bearer {admin_token}"}
    r = client.get("/api/v1/sales", params={"offset": 2**63}, headers=headers)
    assert (r.status_code, r.json()["code"]) == (422, "invalid_input")
    r = client.get("/api/v1/sales/outcome", params={"key": "a\x00b"}, headers=headers)
    # SQLite refuses a NUL as PostgreSQL does: both answer alike
    assert (r.status_code, r.json()["code"]) == (422, "invalid_input")
