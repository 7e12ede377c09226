"""The office's half of an end-to-end run: upload a meter's readout, read back the
reconciliation of that meter."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from stsgas.meter.readout import Readout
from stsgas.vending.db import make_sessionmaker
from stsgas.vending.models import Meter as MeterRow
from tests.vending.conftest import auth


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
