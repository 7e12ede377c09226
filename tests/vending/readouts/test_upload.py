"""Uploading readout files: kept once per content, merged per meter, refused whole when bad."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from stsgas.vending.db import make_sessionmaker
from stsgas.vending.models import (
    AuditEntry,
    HourlyUse,
    MeterEvent,
    MonthlyUse,
    Readout,
    ReadSetting,
)
from stsgas.vending.readouts.store import sha256_of
from tests.problems import problem
from tests.vending.conftest import auth
from tests.vending.readouts.office import (
    Office,
    as_bytes,
    readout_bytes,
    readout_json,
)
from tests.vending.sales.live import serve

JSON = {"Content-Type": "application/json"}


def _counts(engine: Engine) -> dict[str, int]:
    with make_sessionmaker(engine)() as s:
        return {
            m.__tablename__: s.execute(select(func.count()).select_from(m)).scalar_one()
            for m in (Readout, MonthlyUse, HourlyUse, MeterEvent, ReadSetting)
        }


def test_the_same_file_twice_is_kept_once(
    client: TestClient, office: Office, supervisor_token: str, engine: Engine
) -> None:
    """201 with the counts, then 200 with the same readout: no row is added the second time."""
    content = readout_bytes("office-120m.json")
    url = f"/api/v1/meters/{office.volume_id}/readouts"
    first = client.post(url, content=content, headers={**auth(supervisor_token), **JSON})
    assert first.status_code == 201, first.text
    body = first.json()
    assert (body["months"], body["hours"], body["events"]) == (120, 336, 6)
    assert body["sha256"] == sha256_of(content)
    assert body["uploaded_by"] == "supervisor"
    assert body["created"] is True
    after_first = _counts(engine)
    again = client.post(url, content=content, headers={**auth(supervisor_token), **JSON})
    assert again.status_code == 200
    assert again.json()["id"] == body["id"]
    assert again.json()["created"] is False
    assert _counts(engine) == after_first
    assert after_first == {
        "readouts": 1,
        "meter_monthly_use": 120,
        "meter_hourly_use": 336,
        "meter_events": 6,
        "meter_read_settings": 8,
    }
    with make_sessionmaker(engine)() as s:
        audited = s.execute(
            select(AuditEntry.action).where(AuditEntry.action == "meter.readout")
        ).all()
    assert len(audited) == 1


def test_a_multipart_upload_by_the_number_in_the_file(
    client: TestClient, office: Office, admin_token: str
) -> None:
    """POST /meters/readouts with a multipart file: the meter is the one the file names."""
    files = {"file": ("office-a.json", readout_bytes("office-a.json"), "application/json")}
    r = client.post("/api/v1/meters/readouts", files=files, headers=auth(admin_token))
    assert r.status_code == 201, r.text
    assert r.json()["meter_id"] == office.volume_id
    assert r.json()["meter_number"] == office.volume_pan


def test_overlapping_readouts_merge_without_duplicates(
    client: TestClient, office: Office, supervisor_token: str, engine: Engine
) -> None:
    """A (15 Nov) then B (5 Dec): October once, November as B counted it (the later read),
    the shared event once, overlapping hours once with B's figures."""
    url = f"/api/v1/meters/{office.volume_id}/readouts"
    for name in ("office-a.json", "office-b.json"):
        r = client.post(url, content=readout_bytes(name), headers=auth(supervisor_token))
        assert r.status_code == 201, r.text
    history = client.get(
        f"/api/v1/meters/{office.volume_id}/history",
        params={"hours": 1000},
        headers=auth(supervisor_token),
    ).json()
    assert [(m["month"], m["volume_m3"]) for m in history["monthly"]] == [
        ("2026-09", "14.700"),
        ("2026-10", "12.900"),
        ("2026-11", "11.800"),
        ("2026-12", "2.100"),
    ]
    assert [e["code"] for e in history["events"]] == [
        "power_down",
        "valve_close_failure",
        "leak_shutoff",
    ]
    hours = {h["hour"]: h["volume_m3"] for h in history["hourly"]}
    assert len(hours) == len(history["hourly"]) == 36  # 24 + 24, 12 of them shared
    assert hours["2026-11-15T03:00:00Z"] == "0.165"  # B's 160 + 5 litres, not A's 160
    assert history["last_readout"]["read_at"] == "2026-12-05T09:00:00Z"


def test_one_reading_as_csv_and_as_json_adds_no_row_twice(
    client: TestClient, office: Office, supervisor_token: str, engine: Engine
) -> None:
    """Two files (two readouts, by their bytes) of one reading: the rows are merged once."""
    url = f"/api/v1/meters/{office.volume_id}/readouts"
    csv_upload = client.post(
        url,
        files={"file": ("a.csv", readout_bytes("office-a.csv"), "text/csv")},
        headers=auth(supervisor_token),
    )
    assert csv_upload.status_code == 201, csv_upload.text
    once = _counts(engine)
    r = client.post(url, content=readout_bytes("office-a.json"), headers=auth(supervisor_token))
    assert r.status_code == 201
    assert _counts(engine) == {**once, "readouts": 2}
    assert once["meter_monthly_use"] == 3


def test_an_older_readout_uploaded_later_does_not_overwrite_newer_figures(
    client: TestClient, office: Office, supervisor_token: str
) -> None:
    """B then A: November stays at B's 11.800 (A read it half-way through the month)."""
    url = f"/api/v1/meters/{office.volume_id}/readouts"
    for name in ("office-b.json", "office-a.json"):
        assert client.post(
            url, content=readout_bytes(name), headers=auth(supervisor_token)
        ).is_success
    history = client.get(
        f"/api/v1/meters/{office.volume_id}/history", headers=auth(supervisor_token)
    ).json()
    assert {m["month"]: m["volume_m3"] for m in history["monthly"]}["2026-11"] == "11.800"
    assert history["last_readout"]["read_at"] == "2026-12-05T09:00:00Z"


def _variant(change: Callable[[dict[str, Any]], None]) -> bytes:
    data = readout_json("office-a.json")
    change(data)
    return as_bytes(data)


def _float_volume(d: dict[str, Any]) -> None:
    d["monthly"][0]["volume_m3"] = 14.7


REFUSED: list[tuple[str, bytes, int, str]] = [
    ("not json", b"{not json", 422, "bad_readout"),
    (
        "other format",
        _variant(lambda d: d.update(format="stsgas-readout/2")),
        422,
        "readout_format",
    ),
    ("a float", _variant(_float_volume), 422, "bad_readout"),
    (
        "too many months",
        _variant(
            lambda d: d.update(
                monthly=[
                    {"month": f"{2000 + i // 12}-{i % 12 + 1:02d}", "volume_m3": "1.000"}
                    for i in range(201)
                ]
            )
        ),
        422,
        "readout_too_large",
    ),
    (
        "too many events",
        _variant(
            lambda d: d.update(
                events=[{"at": "2026-01-01T00:00:00+00:00", "code": "x", "detail": ""}] * 10_001
            )
        ),
        422,
        "readout_too_large",
    ),
    (
        "unknown meter",
        _variant(lambda d: d.update(meter_number="07770000300")),
        404,
        "meter_not_found",
    ),
    (
        "bad check digit",
        _variant(lambda d: d.update(meter_number="07770000103")),
        422,
        "bad_meter_number",
    ),
    (
        "another meter's",
        _variant(lambda d: d.update(meter_number="07770000201")),
        422,
        "readout_meter_mismatch",
    ),
    ("wrong mode", _variant(lambda d: d.update(mode="amount")), 422, "readout_mode_mismatch"),
    ("naive time", _variant(lambda d: d.update(read_at="2026-11-15T09:00:00")), 422, "bad_readout"),
]


@pytest.mark.parametrize(
    ("content", "status", "code"), [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED]
)
def test_a_bad_file_is_refused_whole(
    client: TestClient,
    office: Office,
    supervisor_token: str,
    engine: Engine,
    content: bytes,
    status: int,
    code: str,
) -> None:
    """problem+json with a stable code; nothing of the file is kept."""
    before = _counts(engine)
    r = client.post(
        f"/api/v1/meters/{office.volume_id}/readouts",
        content=content,
        headers={**auth(supervisor_token), **JSON},
    )
    problem(r, status, code)
    assert _counts(engine) == before


def test_a_cashier_reads_but_cannot_upload(
    client: TestClient, office: Office, cashier_token: str
) -> None:
    """Uploading needs meters.write; reading the history needs only meters.read."""
    r = client.post(
        f"/api/v1/meters/{office.volume_id}/readouts",
        content=readout_bytes("office-a.json"),
        headers=auth(cashier_token),
    )
    assert r.status_code == 403
    assert r.json()["code"] == "forbidden"
    got = client.get(f"/api/v1/meters/{office.volume_id}/history", headers=auth(cashier_token))
    assert got.status_code == 200
    assert got.json()["last_readout"] is None


def test_a_ten_thousand_hour_file_passes_the_body_limit(
    client: TestClient, office: Office, supervisor_token: str
) -> None:
    """The readout's own body limit (STSGAS_MAX_READOUT_BYTES) lets a full file through,
    larger than the 64 KiB of other requests."""
    data = readout_json("office-a.json")
    start = datetime(2025, 1, 1, tzinfo=UTC)
    data["hourly"] = [
        {"hour": (start + timedelta(hours=i)).isoformat(), "volume_m3": "0.010"}
        for i in range(10_000)
    ]
    content = as_bytes(data)
    assert len(content) > 65_536
    r = client.post(
        f"/api/v1/meters/{office.volume_id}/readouts",
        content=content,
        headers=auth(supervisor_token),
    )
    assert r.status_code == 201, r.text
    assert r.json()["hours"] == len(data["hourly"])


def _at_once(app: FastAPI, path: str, token: str, files: list[bytes]) -> list[httpx.Response]:
    """Each of ``files`` uploaded to ``path`` at the same moment over real HTTP (a uvicorn
    server, eight threads): their answers, in order."""
    with serve(app) as base:

        def send(content: bytes) -> httpx.Response:
            return httpx.post(f"{base}{path}", content=content, headers=auth(token), timeout=60)

        with ThreadPoolExecutor(8) as pool:
            return list(pool.map(send, files))


def test_the_same_file_in_parallel_is_kept_once(
    app: FastAPI, office: Office, supervisor_token: str, engine: Engine
) -> None:
    """Eight uploads of one file at once over real HTTP (a uvicorn server; on PostgreSQL
    they race on the meter's row): one 201, seven 200 naming the same readout, one set
    of rows."""
    content = readout_bytes("office-120m.json")
    answers = _at_once(app, "/api/v1/meters/readouts", supervisor_token, [content] * 8)
    assert sorted(a.status_code for a in answers) == [200] * 7 + [201], [a.text for a in answers]
    assert len({a.json()["id"] for a in answers}) == 1
    counts = _counts(engine)
    assert (counts["readouts"], counts["meter_monthly_use"], counts["meter_events"]) == (1, 120, 6)


def test_two_overlapping_readouts_at_once_merge_once(
    app: FastAPI, office: Office, supervisor_token: str, engine: Engine
) -> None:
    """A and B uploaded at the same moment, four times each: two readouts, four months,
    three events, 36 hours, and November as B (the later reading) counted it, whichever
    commits first."""
    files = [readout_bytes("office-a.json"), readout_bytes("office-b.json")] * 4
    path = f"/api/v1/meters/{office.volume_id}/readouts"
    answers = _at_once(app, path, supervisor_token, files)
    assert sorted(a.status_code for a in answers) == [200] * 6 + [201] * 2
    counts = _counts(engine)
    assert (
        counts["readouts"],
        counts["meter_monthly_use"],
        counts["meter_events"],
        counts["meter_hourly_use"],
    ) == (2, 4, 3, 36)
    with make_sessionmaker(engine)() as s:
        november = s.execute(select(MonthlyUse.litres).where(MonthlyUse.month == "2026-11"))
        assert november.scalar_one() == 11_800
