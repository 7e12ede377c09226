"""The third documented path (issue 13): `stsgas init` + `stsgas keys import` +
`stsgas serve` on PostgreSQL with the vending key in SoftHSM, as real processes. A sale's
token decodes with stsgas.sts under the decoder key derived from the key entered; a
server on a token that lacks the key refuses to start, in one line."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from stsgas.sts import DKGA, EA, BaseDate, CreditToken, MeterConfig, decode
from stsgas.vending.db import make_engine, make_sessionmaker
from stsgas.vending.keys.ceremony import combine
from stsgas.vending.models import MeterMode, Role, SupplyGroup
from stsgas.vending.operators import service as operators
from tests.processes import answer, free_port, read_env_file, running
from tests.vending import factories
from tests.vending.empty_pg import empty_database
from tests.vending.keys.ceremony_data import CASES
from tests.vending.keys.softhsm import SoftHsm, init_token, write_conf

PASSWORD = "Gas-meters-go-live"

pytestmark = pytest.mark.postgres


@pytest.fixture
def fresh_pg() -> Iterator[str]:
    """An empty PostgreSQL database, made here and dropped after."""
    with empty_database("stsgas_hsm") as url:
        yield url.render_as_string(hide_password=False)


def _base_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("STSGAS_")}


def _stsgas(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stsgas", *args],
        cwd=cwd,
        env={**_base_env(), **env},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def _shop(url: str) -> tuple[str, str]:
    """A tariff, a meter, a vendor with float and a cashier: (meter PAN, cashier token).
    Made with the services, as the console would; none of it needs the vending key."""
    engine = make_engine(url, pool_size=1)
    try:
        with make_sessionmaker(engine).begin() as s:
            sg = s.query(SupplyGroup).one()
            tariff = factories.tariff(s, mode=MeterMode.VOLUME)
            meter = factories.meter(s, sg, tariff=tariff, customer=factories.customer(s))
            vendor = operators.create_vendor(s, actor=None, name="Kiosk")
            operators.top_up_float(
                s, actor=None, vendor_id=vendor.id, amount=100_000
            )  # minor units: 1000.00
            cashier = operators.create_operator(
                s,
                actor=None,
                username="till1",
                role=Role.CASHIER,
                password=PASSWORD,
                vendor_id=vendor.id,
            )
            token = operators.issue_token(s, cashier, ttl=None, name="till").secret
            return meter.pan, token
    finally:
        engine.dispose()


def _sgc_meter(pan: str, case: dict[str, Any]) -> MeterConfig:
    vk = combine([bytes.fromhex(x) for x in case["components"]])
    assert vk == bytes.fromhex("abababababababab")  # the STS test key, split in three
    return MeterConfig(
        pan=pan,
        key_type=2,
        sgc=case["sgc"],
        ti="01",
        krn=case["krn"],
        ken=255,
        base_date=BaseDate(2014),
        ea=EA(case["ea"]),
        dkga=DKGA(case["dkga"]),
        vending_key=vk,
    )


def test_init_keys_import_serve_on_postgresql_with_softhsm(fresh_pg: str, tmp_path: Path) -> None:
    hsm_dir = tmp_path / "hsm"
    token: SoftHsm = init_token(write_conf(hsm_dir))
    other: SoftHsm = init_token(token.conf, label="empty-token", pin=token.pin)
    pin_file = tmp_path / "etc" / "pkcs11.pin"
    pin_file.parent.mkdir()
    pin_file.write_text(token.pin + "\n")
    (tmp_path / "admin-password").write_text(PASSWORD + "\n")
    work = tmp_path / "work"
    work.mkdir()
    softhsm = {"SOFTHSM2_CONF": str(token.conf)}

    done = _stsgas(
        "init",
        "--database",
        fresh_pg,
        "--pkcs11-library",
        str(token.library),
        "--pkcs11-token-label",
        token.label,
        "--pkcs11-pin-file",
        str(pin_file),
        "--admin",
        "chief",
        "--password-file",
        str(tmp_path / "admin-password"),
        cwd=work,
        env=softhsm,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert token.pin not in done.stdout + done.stderr
    settings = read_env_file(pin_file.parent / "stsgas.env")
    assert settings["STSGAS_SECURITY_MODULE"] == "pkcs11"
    assert settings["STSGAS_PKCS11_PIN_FILE"] == str(pin_file)
    assert "STSGAS_MASTER_KEY_FILE" not in settings

    case = CASES["des"]
    files = []
    for n, part in enumerate(case["components"], 1):
        f = tmp_path / f"component-{n}"
        f.write_text(part + "\n")
        files += ["--component-file", str(f)]
    imported = _stsgas(
        "keys",
        "import",
        "--sgc",
        case["sgc"],
        "--krn",
        str(case["krn"]),
        *files,
        "--key-kcv",
        case["key_kcv"],
        cwd=work,
        env={**settings, **softhsm},
    )
    assert imported.returncode == 0, imported.stderr
    pan, cashier = _shop(fresh_pg)

    port = free_port()
    with running(
        [sys.executable, "-m", "stsgas", "serve", "--port", str(port)],
        env={**_base_env(), **settings, **softhsm},
        cwd=work,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as proc:
        readyz = f"http://127.0.0.1:{port}/readyz"
        answer(lambda: httpx.get(readyz, timeout=5), proc, seconds=90, status=200)
        sold = httpx.post(
            f"http://127.0.0.1:{port}/api/v1/sales",
            json={"meter_number": pan, "amount": "25.00", "channel": "pos"},
            headers={"Authorization": f"Bearer {cashier}"},
            timeout=30,
        )
    assert sold.status_code == 201, sold.text
    body = sold.json()
    issued = decode(body["tokens"][-1]["digits"], _sgc_meter(pan, case).key())
    assert isinstance(issued, CreditToken)
    assert issued.tid == body["tid"]
    assert Decimal(issued.units) / 10 == Decimal(body["units_credited"])

    refused = _stsgas(
        "serve",
        "--migrate-only",
        cwd=work,
        env={**settings, **softhsm, "STSGAS_PKCS11_TOKEN_LABEL": other.label},
    )
    assert refused.returncode == 2
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1, refused.stderr
    assert lines[0].startswith(
        f"stsgas serve: the HSM does not hold the vending key of supply group "
        f"{case['sgc']}/KRN {case['krn']}"
    )
