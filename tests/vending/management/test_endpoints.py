"""Management tokens: four-eyes approval, decoding, key change sets, roles."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from stsgas.irproto import decode_frame, encode_frame
from stsgas.sts import ClearTamper, KeyChange1, TariffRate, decode
from stsgas.vending.db import make_sessionmaker
from stsgas.vending.keys.security import SoftwareSecurityModule
from stsgas.vending.models import Meter
from tests.vending.conftest import auth
from tests.vending.sales.conftest import Shop, meter_config
from tests.vending.virtual import virtual_meter

URL = "/api/v1/management/requests"


def _ask(
    client: TestClient, token: str, pan: str, kind: str, params: Mapping[str, object]
) -> dict[str, Any]:
    r = client.post(
        URL,
        json={"meter_number": pan, "kind": kind, "params": params, "reason": "field visit"},
        headers=auth(token),
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_four_eyes_then_tokens_decode(
    client: TestClient,
    shop: Shop,
    approver_token: str,
    engine: Engine,
    security_module: SoftwareSecurityModule,
) -> None:
    """The asker cannot approve; a second person can, and each token decodes to its kind
    (a tariff rate: to a by-amount meter, the only kind that prices its own gas)."""
    with make_sessionmaker(engine)() as s:
        cfg = meter_config(s, security_module, shop.amount_pan)
    cases = [("clear_tamper", {}, ClearTamper), ("set_tariff", {"rate": 1234}, TariffRate)]
    tids = []
    for kind, params, cls in cases:
        req = _ask(client, shop.supervisor_token, shop.amount_pan, kind, params)
        assert req["status"] == "pending"
        assert req["tokens"] == []
        own = client.post(f"{URL}/{req['id']}/approve", headers=auth(shop.supervisor_token))
        assert own.status_code == 403
        ok = client.post(f"{URL}/{req['id']}/approve", headers=auth(approver_token))
        assert ok.status_code == 200, ok.text
        body = ok.json()
        assert body["status"] == "issued"
        tok = decode(body["tokens"][0]["digits"], cfg.key())
        assert isinstance(tok, cls)
        tids.append(body["tokens"][0]["tid"])
        if isinstance(tok, TariffRate):
            assert tok.rate == 1234
    assert tids[0] < tids[1]


def test_key_change_set_moves_the_meter(
    client: TestClient,
    shop: Shop,
    approver_token: str,
    engine: Engine,
    security_module: SoftwareSecurityModule,
) -> None:
    """A TI change issues the set under the old key and updates the meter's key data."""
    with make_sessionmaker(engine)() as s:
        old = meter_config(s, security_module, shop.volume_pan)
    req = _ask(client, approver_token, shop.volume_pan, "key_change", {"ti": "07"})
    body = client.post(f"{URL}/{req['id']}/approve", headers=auth(shop.supervisor_token)).json()
    assert [t["kind"] for t in body["tokens"]] == ["kct", "kct"]
    assert isinstance(decode(body["tokens"][0]["digits"], old.key()), KeyChange1)
    with make_sessionmaker(engine)() as s:
        m = s.execute(select(Meter).where(Meter.pan == shop.volume_pan)).scalar_one()
        assert m.ti == "07"


def test_reject_and_bad_params_and_roles(
    client: TestClient, shop: Shop, approver_token: str
) -> None:
    """Rejected requests stay unissued; bad params are 422; cashiers may not ask."""
    req = _ask(client, shop.supervisor_token, shop.volume_pan, "clear_credit", {})
    r = client.post(
        f"{URL}/{req['id']}/reject", json={"reason": "no"}, headers=auth(approver_token)
    )
    assert r.json()["status"] == "rejected"
    again = client.post(f"{URL}/{req['id']}/approve", headers=auth(approver_token))
    assert again.status_code == 409
    bad = client.post(
        URL,
        json={
            "meter_number": shop.volume_pan,
            "kind": "set_tariff",
            "params": {"rate": 70000},
            "reason": "x",
        },
        headers=auth(approver_token),
    )
    assert bad.status_code == 422
    denied = client.post(
        URL,
        json={"meter_number": shop.volume_pan, "kind": "clear_tamper", "reason": "x"},
        headers=auth(shop.cashier_token),
    )
    assert denied.status_code == 403


def test_pending_list_shows_what_waits_for_a_second_person(
    client: TestClient, shop: Shop, approver_token: str, cashier_token: str
) -> None:
    """?status=pending lists open requests newest first with who asked; an issued one
    leaves the list; a cashier may not read it."""
    first = _ask(client, shop.supervisor_token, shop.volume_pan, "clear_tamper", {})
    second = _ask(client, shop.supervisor_token, shop.amount_pan, "set_tariff", {"rate": 150})
    rows = client.get(URL, params={"status": "pending"}, headers=auth(approver_token)).json()
    assert [r["id"] for r in rows] == [second["id"], first["id"]]
    assert rows[0]["requested_by"] == "shopsuper"
    assert rows[0]["meter_number"] == shop.amount_pan
    assert rows[0]["params"] == {"rate": 150}
    approve = client.post(f"{URL}/{first['id']}/approve", headers=auth(approver_token))
    assert approve.status_code == 200
    rows = client.get(URL, params={"status": "pending"}, headers=auth(approver_token)).json()
    assert [r["id"] for r in rows] == [second["id"]]
    every = client.get(URL, headers=auth(approver_token)).json()
    assert {r["status"] for r in every} == {"pending", "issued"}
    bogus = client.get(URL, params={"status": "bogus"}, headers=auth(approver_token))
    assert bogus.status_code == 422
    assert client.get(URL, headers=auth(cashier_token)).status_code == 403


def test_load_tariff_is_a_signed_ir_command_the_meter_takes(
    client: TestClient,
    shop: Shop,
    approver_token: str,
    engine: Engine,
) -> None:
    """A by-amount meter's step tariff, asked for and approved by two people, comes back
    as an IR command signed under the meter's key: the meter (stsgas.meter) accepts it,
    keeps it pending until its time, and refuses the same frame replayed."""
    req = _ask(
        client,
        shop.supervisor_token,
        shop.amount_pan,
        "load_tariff",
        {"seq": 1, "activate_at": "2030-01-01T00:00:00Z"},
    )
    assert req["status"] == "pending"
    assert req["ir_command"] is None
    ok = client.post(f"{URL}/{req['id']}/approve", headers=auth(approver_token))
    assert ok.status_code == 200, ok.text
    body = ok.json()
    assert body["status"] == "issued"
    assert body["tokens"] == []
    command = body["ir_command"]
    assert command.startswith("tariff 1 2030-01-01T00:00:00Z ")

    now = datetime(2026, 6, 1, tzinfo=UTC)
    meter = virtual_meter(engine, shop.amount_pan, "amount", now=now)
    frame = encode_frame(command)
    assert decode_frame(meter.receive_ir(frame, now).reply or b"").startswith("ok tariff")
    assert meter.config.pending is not None
    assert decode_frame(meter.receive_ir(frame, now).reply or b"") == "err replay 1"


@pytest.mark.parametrize(
    ("pan_kind", "params", "why"),
    [
        ("volume", {"seq": 1, "activate_at": "2030-01-01T00:00:00Z"}, "by-amount"),
        ("amount", {"seq": 0, "activate_at": "2030-01-01T00:00:00Z"}, "seq"),
        ("amount", {"seq": 1, "activate_at": "2030-01-01T00:00:00"}, "zone"),
        (
            "amount",
            {"seq": 1, "activate_at": "2030-01-01T00:00:00Z", "tariff_version_id": 999},
            "no version",
        ),
    ],
)
def test_load_tariff_refuses_bad_requests(
    client: TestClient, shop: Shop, pan_kind: str, params: dict[str, object], why: str
) -> None:
    """A volume meter, a zero counter, a time without zone, a foreign version: 422."""
    pan = shop.volume_pan if pan_kind == "volume" else shop.amount_pan
    r = client.post(
        URL,
        json={"meter_number": pan, "kind": "load_tariff", "params": params, "reason": "new prices"},
        headers=auth(shop.supervisor_token),
    )
    assert r.status_code == 422, r.text
    assert why in r.json()["detail"]


def test_load_tariff_waits_for_a_pending_key_change(
    client: TestClient,
    shop: Shop,
    approver_token: str,
    engine: Engine,
) -> None:
    """A meter due a key change with its next sale: the tariff command would be signed
    under a key the meter is about to drop, so approval is refused (409, nothing
    signed) until the key change is done; then the same request is approved."""
    kc = _ask(
        client, approver_token, shop.amount_pan, "key_change", {"ti": "07", "with_next_sale": True}
    )
    assert (
        client.post(f"{URL}/{kc['id']}/approve", headers=auth(shop.supervisor_token)).status_code
        == 200
    )
    req = _ask(
        client,
        shop.supervisor_token,
        shop.amount_pan,
        "load_tariff",
        {"seq": 1, "activate_at": "2030-01-01T00:00:00Z"},
    )
    refused = client.post(f"{URL}/{req['id']}/approve", headers=auth(approver_token))
    assert refused.status_code == 409, refused.text
    assert "key change pending" in refused.json()["detail"]
    got = client.get(f"{URL}/{req['id']}", headers=auth(approver_token)).json()
    assert (got["status"], got["ir_command"]) == ("pending", None)
    sale = client.post(
        "/api/v1/sales",
        json={"meter_number": shop.amount_pan, "amount": "10.00"},
        headers=auth(shop.cashier_token),
    )
    assert [t["kind"] for t in sale.json()["tokens"]] == ["kct", "kct", "credit"]
    ok = client.post(f"{URL}/{req['id']}/approve", headers=auth(approver_token))
    assert ok.status_code == 200, ok.text
    assert ok.json()["ir_command"].startswith("tariff 1 ")
