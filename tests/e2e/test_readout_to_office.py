"""A meter's months, read out in the field and set against the office's sales.

The meter is the firmware model keyed from the vending database. It lives three
months in its encrypted NVM file: each month the counter sells one token over the API,
the customer types it in and burns exactly that gas; a magnet is held to it once, and
its valve sticks when the monthly clean tries to close it. Then ``stsgas meter start
--headless --ir-pty`` serves that NVM file, ``stsgas irpad readout`` reads it over the
real pty, and the file goes up through the API: the meter page draws it, the meter
needs a visit, and every month's use equals what was sold in it.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from stsgas.cli import main
from stsgas.meter import Meter
from stsgas.meter.adapters.file_nvm import FileNvm
from stsgas.meter.demo import nvm_key
from stsgas.meter.nvm_store import EncryptedRecordStore
from stsgas.vending import web
from stsgas.vending.db import make_sessionmaker
from stsgas.vending.models import Meter as MeterRow
from tests.e2e.office import entered, sold_on
from tests.processes import spawn, stop
from tests.vending.conftest import auth
from tests.vending.sales.conftest import Shop
from tests.vending.virtual import meter_doc
from tests.vending.web.conftest import sign_in

MONTHS = 3
FLOWS = 6  # draws a month, the token's gas spread over them


@pytest.fixture
def console(app: FastAPI, shop: Shop) -> Iterator[TestClient]:
    """One client for the API and the console pages."""
    web.install(app)
    with TestClient(app) as c:
        yield c


def _month_starts(now: datetime) -> list[datetime]:
    """The first instants of the ``MONTHS`` whole months before ``now``'s month (UTC)."""
    y, m = now.year, now.month
    out = []
    for _ in range(MONTHS):
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
        out.append(datetime(y, m, 1, tzinfo=UTC))
    return out[::-1]


def _live(
    meter: Meter, client: TestClient, shop: Shop, engine: Engine, now: datetime
) -> dict[str, int]:
    """Three months of use: a token a month, all of its gas used within the month."""
    used: dict[str, int] = {}
    starts = _month_starts(now)
    meter.set_valve_fault(False, True, starts[0])  # the valve will not close
    for i, start in enumerate(starts):
        at = start + timedelta(days=1, hours=8)
        receipt = sold_on(client, engine, shop.cashier_token, shop.volume_pan, "40.00", at)
        litres = int(Decimal(receipt["units_credited"]) * 1000)
        entered(meter, receipt, at)
        meter.open_key(at + timedelta(minutes=1))
        share = litres // FLOWS
        for k in range(FLOWS):
            part = share if k < FLOWS - 1 else litres - share * (FLOWS - 1)
            meter.flow(part, start + timedelta(days=3 + 4 * k, hours=18))
            if (i, k) == (1, 2):
                meter.magnet(True, start + timedelta(days=12, hours=2))
                meter.magnet(False, start + timedelta(days=12, hours=3))
        used[start.strftime("%Y-%m")] = litres
    meter.handle_timer(
        now.replace(day=1, hour=0, minute=0, second=0, microsecond=0) + timedelta(hours=1)
    )
    return used


def test_a_meter_read_out_over_the_pty_agrees_with_the_office(
    console: TestClient,
    shop: Shop,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Readout over a real pty into the API: charts, a visit flag for the magnet and the
    stuck valve, and a reconciliation where each month's use equals its sales."""
    now = datetime.now(UTC)
    doc = {**meter_doc(engine, shop.volume_pan, "volume"), "hourly_record_days": 120}
    config = tmp_path / "meter.json"
    config.write_text(json.dumps({"meter": doc}))
    nvm_path = tmp_path / "meter.nvm"
    nvm = FileNvm(nvm_path)
    meter = Meter.from_json(
        doc, store=EncryptedRecordStore(nvm, nvm_key(doc)), now=_month_starts(now)[0]
    )
    used = _live(meter, console, shop, engine, now)
    nvm.close()

    proc = spawn(
        [sys.executable, "-m", "stsgas", "meter", "start", "--ir-pty", "--headless",
         "--nvm", str(nvm_path), "--config", str(config)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    out = tmp_path / "read.json"
    try:
        assert proc.stdout is not None
        port = proc.stdout.readline().split(": ", 1)[1].strip()
        args = ["irpad", "--port", port, "--config", str(config), "readout", "--out", str(out)]
        assert main(args) == 0, capsys.readouterr().err
    finally:
        _, err = stop(proc)
    assert proc.returncode == 0, err
    read = json.loads(out.read_text())
    assert read["meter_number"] == shop.volume_pan
    codes = {e["code"] for e in read["events"]}
    assert {"magnetic_interference", "valve_close_failure"} <= codes, codes

    up = console.post(
        "/api/v1/meters/readouts",
        content=out.read_bytes(),
        headers={**auth(shop.supervisor_token), "Content-Type": "application/json"},
    )
    assert up.status_code == 201, up.text
    with make_sessionmaker(engine)() as s:
        meter_id = s.execute(
            select(MeterRow.id).where(MeterRow.pan == shop.volume_pan)
        ).scalar_one()

    rec = console.get(
        f"/api/v1/meters/{meter_id}/reconciliation", headers=auth(shop.supervisor_token)
    )
    assert rec.status_code == 200, rec.text
    body = rec.json()
    assert (body["unit"], body["opening"]) == ("m3", "0.000"), body
    rows = {r["month"]: r for r in body["months"]}
    for month, litres in used.items():
        m3 = str(Decimal(litres) / 1000)
        row = rows[month]
        assert (Decimal(row["sold"]), Decimal(row["used"])) == (Decimal(m3), Decimal(m3)), row
        assert Decimal(row["difference"]) == Decimal(row["balance"]) == 0, row
        assert not row["flagged"]
    assert body["flagged_months"] == []

    visits = console.get("/api/v1/meters/visits", headers=auth(shop.supervisor_token))
    assert visits.status_code == 200, visits.text
    assert shop.volume_pan in visits.text

    sign_in(console, "shopsuper")
    html = console.get(f"/console/meters/{meter_id}").text
    monthly = html[html.index('id="monthly-chart"') : html.index('id="hourly-chart"')]
    assert monthly.count('<rect class="bar"') >= MONTHS
    hourly = html[html.index('id="hourly-chart"') : html.index('id="events-chart"')]
    assert hourly.count('<rect class="bar"') > 0
    flag = re.search(r'id="visit-flag">\s*([^<]+)<', html)
    assert flag is not None
    assert "Magnetic interference" in flag.group(1)
    assert "Valve failed to close" in flag.group(1)
