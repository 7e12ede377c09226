"""The vending API on the PKCS#11 module (issue 13): a supply group made over the API
stores a reference, a short DKGA04 key is a problem with a stable code and writes
nothing, a sale's token decodes, and concurrent derivations on one session agree."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from stsgas.sts import DKGA, EA, BaseDate, CreditToken, MeterConfig, decode
from stsgas.sts.kdf import derive
from stsgas.vending.app import create_app
from stsgas.vending.db import make_sessionmaker
from stsgas.vending.keys.hsm import Pkcs11SecurityModule, parse_reference
from stsgas.vending.keys.security import KeyRef, MeterKeyData
from stsgas.vending.models import MeterMode, Role, SupplyGroup
from stsgas.vending.operators import service as operators
from stsgas.vending.settings import Settings
from tests.vending import factories
from tests.vending.conftest import PASSWORD, auth

VK = bytes(range(0x40, 0x60))  # 32 bytes: SoftHSM's shortest HMAC key


@pytest.fixture
def hsm_client(engine: Engine, db_url: str, hsm: Pkcs11SecurityModule) -> Iterator[TestClient]:
    app = create_app(Settings(database_url=db_url), engine=engine, security_module=hsm)
    with TestClient(app) as c:
        yield c


def _token(engine: Engine, role: Role, vendor_id: int | None = None) -> str:
    with make_sessionmaker(engine).begin() as s:
        op = operators.create_operator(
            s,
            actor=None,
            username=f"{role.value}-hsm",
            role=role,
            password=PASSWORD,
            vendor_id=vendor_id,
        )
        return operators.issue_token(s, op, ttl=None, name="t").secret


def _group_body(sgc: str, vk: bytes) -> dict[str, Any]:
    return {"sgc": sgc, "krn": 1, "dkga": 4, "ea": 11, "vending_key": vk.hex()}


def test_the_api_stores_a_reference_and_refuses_a_short_key(
    hsm_client: TestClient, engine: Engine, backend: str
) -> None:
    admin = _token(engine, Role.ADMIN)
    sgc = f"40000{'01'[backend == 'sqlite']}"
    short = hsm_client.post(
        "/api/v1/supply-groups", json=_group_body(sgc, VK[:20]), headers=auth(admin)
    )
    assert short.status_code == 422, short.text
    assert short.json()["code"] == "hsm_key_too_short"
    assert "at least 32 bytes" in short.json()["detail"]
    with make_sessionmaker(engine)() as s:
        assert s.scalar(select(func.count()).select_from(SupplyGroup)) == 0
    made = hsm_client.post("/api/v1/supply-groups", json=_group_body(sgc, VK), headers=auth(admin))
    assert made.status_code == 201, made.text
    assert VK.hex() not in made.text
    with make_sessionmaker(engine)() as s:
        sg = s.scalars(select(SupplyGroup)).one()
        parse_reference(sg.vending_key_enc)
    assert hsm_client.get("/readyz").status_code == 200


def test_a_sale_on_the_hsm_decodes_under_the_software_decoder_key(
    hsm_client: TestClient, engine: Engine, hsm: Pkcs11SecurityModule, backend: str
) -> None:
    sgc = f"41000{'01'[backend == 'sqlite']}"
    with make_sessionmaker(engine).begin() as s:
        sg = factories.supply_group(s, hsm, sgc=sgc, vending_key_hex=VK.hex(), dkga=4, ea=11)
        meter = factories.meter(s, sg, tariff=factories.tariff(s, mode=MeterMode.VOLUME))
        vendor = operators.create_vendor(s, actor=None, name="Kiosk")
        operators.top_up_float(s, actor=None, vendor_id=vendor.id, amount=100_000)
        pan, vendor_id, krn = meter.pan, vendor.id, sg.krn
    cashier = _token(engine, Role.CASHIER, vendor_id)
    sold = hsm_client.post(
        "/api/v1/sales",
        json={"meter_number": pan, "amount": "20.00", "channel": "pos"},
        headers=auth(cashier),
    )
    assert sold.status_code == 201, sold.text
    key = derive(
        MeterConfig(
            pan=pan,
            key_type=2,
            sgc=sgc,
            ti="01",
            krn=krn,
            ken=255,
            base_date=BaseDate(2014),
            ea=EA.MISTY1,
            dkga=DKGA.DKGA04,
            vending_key=VK,
        )
    )
    token = decode(sold.json()["tokens"][-1]["digits"], key)
    assert isinstance(token, CreditToken)
    assert token.tid == sold.json()["tid"]


def test_concurrent_derivations_on_one_session_all_agree(hsm: Pkcs11SecurityModule) -> None:
    """Sync endpoints run in a thread pool: the module's lock keeps each token call whole."""
    ref = KeyRef(sgc="420001", krn=1)
    blobs = {4: hsm.wrap(ref, VK), 2: hsm.wrap(ref, bytes.fromhex("abababababababab"))}

    def one(i: int) -> tuple[int, bytes, bytes]:
        dkga = 2 if i % 2 else 4
        data = MeterKeyData(
            pan="600727000000000009",
            key_type=2,
            sgc=ref.sgc,
            ti=f"{i % 100:02d}",
            krn=ref.krn,
            ken=255,
            base_date=2014,
            ea=7,
            dkga=dkga,
        )
        return i, hsm.decoder_key(data, blobs[dkga]), hsm.decoder_key(data, blobs[dkga])

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(one, range(200)))
    for _, first, again in results:
        assert first == again
    by_ti = {(i % 2, i % 100): k for i, k, _ in results}
    assert len(set(by_ti.values())) == len(by_ti)  # each meter its own key
