"""Field settings by IR: asked by one supervisor, approved by another, signed for the meter.

The signed command is checked the way the meter checks it (``stsgas.irproto`` with
the meter's decoder key); refused values never become a request.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from stsgas.irproto import check_mac, decode_frame, encode_frame, parse_settings
from stsgas.vending.db import make_sessionmaker
from stsgas.vending.keys.security import SoftwareSecurityModule
from stsgas.vending.models import AuditEntry, ManagementRequest
from tests.vending.conftest import auth
from tests.vending.sales.conftest import Shop, meter_config

URL = "/api/v1/management/requests"
DATA = Path(__file__).parents[2] / "data" / "vending" / "field_settings"
ACCEPTED = json.loads((DATA / "accepted.json").read_text())
REFUSED = json.loads((DATA / "refused.json").read_text())


def _ask(
    client: TestClient, token: str, pan: str, params: dict[str, Any], key: str | None = None
) -> Any:
    return client.post(
        URL,
        json={
            "meter_number": pan,
            "kind": "field_settings",
            "params": params,
            "reason": "site survey",
        },
        headers={**auth(token), **({"Idempotency-Key": key} if key else {})},
    )


def _actions(engine: Engine) -> list[str]:
    with make_sessionmaker(engine)() as s:
        return list(
            s.execute(
                select(AuditEntry.action)
                .where(AuditEntry.object_type == "management")
                .order_by(AuditEntry.id)
            ).scalars()
        )


def test_settings_asked_approved_by_another_and_signed_for_the_meter(
    client: TestClient,
    shop: Shop,
    approver_token: str,
    engine: Engine,
    security_module: SoftwareSecurityModule,
) -> None:
    """The values are stored as the command carries them; the asker may not approve
    (403); the second supervisor gets a command whose MAC checks under the meter's
    decoder key and whose pairs read back as asked; approving again replays it."""
    asked = _ask(client, shop.supervisor_token, shop.volume_pan, ACCEPTED["params"])
    assert asked.status_code == 201, asked.text
    req = asked.json()
    assert (req["status"], req["params"], req["ir_command"]) == (
        "pending",
        ACCEPTED["stored"],
        None,
    )
    own = client.post(f"{URL}/{req['id']}/approve", headers=auth(shop.supervisor_token))
    assert own.status_code == 403, own.text
    ok = client.post(f"{URL}/{req['id']}/approve", headers=auth(approver_token))
    assert ok.status_code == 200, ok.text
    body = ok.json()
    assert (body["status"], body["tokens"]) == ("issued", [])
    command = body["ir_command"]

    payload, _, mac = decode_frame(encode_frame(command)).rpartition(" ")
    assert payload == ACCEPTED["payload"]
    with make_sessionmaker(engine)() as s:
        key = meter_config(s, security_module, shop.volume_pan).key().value
        other = meter_config(s, security_module, shop.amount_pan).key().value
    assert check_mac(key, payload, mac)
    assert not check_mac(other, payload, mac)  # signed for this meter only
    name, seq, pairs = payload.split(" ")
    assert (name, seq) == ("settings", "3")
    stored = {k: v for k, v in ACCEPTED["stored"].items() if k != "seq"}
    assert dict(parse_settings(pairs)) == stored

    again = client.post(f"{URL}/{req['id']}/approve", headers=auth(approver_token))
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["ir_command"] == command
    assert _actions(engine) == ["mgmt.request", "mgmt.approve"]


@pytest.mark.parametrize("case", REFUSED, ids=[c["why"] for c in REFUSED])
def test_a_value_the_meter_would_refuse_is_never_asked(
    client: TestClient, shop: Shop, engine: Engine, case: dict[str, Any]
) -> None:
    """Outside the meter's safe range, malformed, unknown, too long for one frame:
    422 with a stable code, and no request nor audit entry is written."""
    r = _ask(client, shop.supervisor_token, shop.volume_pan, case["params"])
    assert r.status_code == 422, r.text
    assert r.json()["code"] == case["code"]
    assert case["why"] in r.json()["detail"]
    with make_sessionmaker(engine)() as s:
        assert s.execute(select(func.count()).select_from(ManagementRequest)).scalar_one() == 0
    assert _actions(engine) == []


def test_the_counter_is_shared_with_tariff_loads(
    client: TestClient, shop: Shop, approver_token: str
) -> None:
    """Once settings went out with counter 2, neither settings nor a tariff load may use
    2 again (the meter would answer a replay); a second pending request with the same
    counter is refused at approval, with nothing signed."""
    first = _ask(client, shop.supervisor_token, shop.amount_pan, {"seq": 2, "billing_day": 5})
    twin = _ask(client, shop.supervisor_token, shop.amount_pan, {"seq": 2, "billing_day": 6})
    done = client.post(f"{URL}/{first.json()['id']}/approve", headers=auth(approver_token))
    assert done.status_code == 200, done.text
    late = client.post(f"{URL}/{twin.json()['id']}/approve", headers=auth(approver_token))
    assert (late.status_code, late.json()["code"]) == (422, "settings_seq"), late.text
    got = client.get(f"{URL}/{twin.json()['id']}", headers=auth(approver_token)).json()
    assert (got["status"], got["ir_command"]) == ("pending", None)
    stale = _ask(client, shop.supervisor_token, shop.amount_pan, {"seq": 2, "billing_day": 7})
    assert stale.json()["code"] == "settings_seq", stale.text
    tariff = client.post(
        URL,
        json={
            "meter_number": shop.amount_pan,
            "kind": "load_tariff",
            "params": {"seq": 2, "activate_at": "2030-01-01T00:00:00Z"},
            "reason": "new prices",
        },
        headers=auth(shop.supervisor_token),
    )
    assert (tariff.status_code, tariff.json()["code"]) == (422, "tariff_seq"), tariff.text
    fresh = _ask(client, shop.supervisor_token, shop.amount_pan, {"seq": 3, "leak_s": 600})
    assert fresh.status_code == 201, fresh.text


def test_a_retried_ask_is_one_request(client: TestClient, shop: Shop, engine: Engine) -> None:
    """The same Idempotency-Key and body: one request, replayed; other data: 422."""
    params = {"seq": 1, "overdraft": "2.5"}
    first = _ask(client, shop.supervisor_token, shop.volume_pan, params, key="fs-1")
    second = _ask(client, shop.supervisor_token, shop.volume_pan, params, key="fs-1")
    assert first.json()["id"] == second.json()["id"]
    assert second.headers["Idempotent-Replayed"] == "true"
    other = _ask(client, shop.supervisor_token, shop.volume_pan, {**params, "seq": 2}, key="fs-1")
    assert other.json()["code"] == "idempotency_mismatch"
    assert _actions(engine) == ["mgmt.request"]


def test_a_cashier_may_not_ask(client: TestClient, shop: Shop) -> None:
    """Same permission as every management request: supervisors only."""
    r = _ask(client, shop.cashier_token, shop.volume_pan, {"seq": 1, "billing_day": 1})
    assert r.status_code == 403, r.text
