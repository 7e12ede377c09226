"""The office's half of an end-to-end run: a management request asked and approved, a
sale dated the day it stands for, its token typed into the meter, a meter's readout
uploaded and the reconciliation of that meter read back."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update

from stsgas.meter import Meter
from stsgas.meter.events import TokenAccepted
from stsgas.meter.readout import Readout
from stsgas.vending.db import make_sessionmaker
from stsgas.vending.models import Meter as MeterRow
from stsgas.vending.models import Sale
from tests.vending.conftest import auth

MANAGEMENT = "/api/v1/management/requests"


def approved(
    client: TestClient,
    asker: str,
    approver: str,
    pan: str,
    kind: str,
    params: dict[str, Any],
    reason: str = "visit",
) -> dict[str, Any]:
    """A management request asked by ``asker`` and approved by ``approver``: the
    approval's body (its tokens or IR command)."""
    asked = client.post(
        MANAGEMENT,
        json={"meter_number": pan, "kind": kind, "params": params, "reason": reason},
        headers=auth(asker),
    )
    assert asked.status_code == 201, asked.text
    ok = client.post(f"{MANAGEMENT}/{asked.json()['id']}/approve", headers=auth(approver))
    assert ok.status_code == 200, ok.text
    return dict(ok.json())


def sold_on(
    client: TestClient, engine: Engine, token: str, pan: str, amount: str, at: datetime
) -> dict[str, Any]:
    """A counter sale over the API, then dated ``at`` (the API stamps the wall clock;
    this stands for the sale made that day): its receipt."""
    r = client.post(
        "/api/v1/sales", json={"meter_number": pan, "amount": amount}, headers=auth(token)
    )
    assert r.status_code == 201, r.text
    receipt = dict(r.json())
    with make_sessionmaker(engine).begin() as s:
        s.execute(update(Sale).where(Sale.id == receipt["sale_id"]).values(created_at=at))
    return receipt


def entered(meter: Meter, receipt: dict[str, Any], at: datetime) -> None:
    """The receipt's token typed into the meter at ``at``; the meter accepts it."""
    got = meter.enter_token(receipt["token"].replace(" ", "").replace("-", ""), at)
    assert any(isinstance(e, TokenAccepted) for e in got), got


def upload_and_reconcile(
    client: TestClient, engine: Engine, token: str, read: Readout, pan: str
) -> tuple[int, dict[str, Any]]:
    """Upload ``read`` (a new file: 201), then the meter's id and its reconciliation."""
    up = client.post(
        "/api/v1/meters/readouts",
        content=json.dumps(read.to_json()).encode(),
        headers={**auth(token), "Content-Type": "application/json"},
    )
    assert up.status_code == 201, up.text
    with make_sessionmaker(engine)() as s:
        meter_id = s.execute(select(MeterRow.id).where(MeterRow.pan == pan)).scalar_one()
    rec = client.get(f"/api/v1/meters/{meter_id}/reconciliation", headers=auth(token))
    assert rec.status_code == 200, rec.text
    body: dict[str, Any] = rec.json()
    return meter_id, body
