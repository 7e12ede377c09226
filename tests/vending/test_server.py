"""``stsgas serve`` preparation: master key, migrations on first start, demo data once."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import httpx
from sqlalchemy import Engine, func, select

from stsgas.sts import CreditToken, decode
from stsgas.sts.identity import drn_with_check
from stsgas.vending import demo
from stsgas.vending.db import make_engine, make_sessionmaker
from stsgas.vending.keys.security import SoftwareSecurityModule
from stsgas.vending.models import Customer, Meter, Operator, SupplyGroup, Tariff
from stsgas.vending.server import prepare
from stsgas.vending.settings import Settings
from tests.processes import answer, free_port, spawn, stop
from tests.vending.sales.conftest import meter_config


def test_first_start_creates_key_migrates_and_loads_demo_once(tmp_path: Path) -> None:
    """An empty SQLite path gets a 0600 master key, the schema and the demo data, once."""
    url = f"sqlite:///{tmp_path / 'db' / 'stsgas.db'}"
    done = prepare(Settings(database_url=url, demo=True))
    key_file = tmp_path / "db" / "master.key"
    assert done.key_file_created == key_file
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert done.demo_loaded
    again = prepare(Settings(database_url=url, demo=True))
    assert again.key_file_created is None
    assert not again.demo_loaded
    engine = make_engine(url)
    with make_sessionmaker(engine)() as s:
        count = {
            m.__name__: s.execute(select(func.count()).select_from(m)).scalar()
            for m in (Operator, SupplyGroup, Tariff, Customer, Meter)
        }
        modes = set(s.execute(select(Meter.mode)).scalars())
    engine.dispose()
    assert count == {"Operator": 4, "SupplyGroup": 1, "Tariff": 2, "Customer": 3, "Meter": 3}
    assert modes == {"volume", "amount"}


def test_demo_on_both_backends_makes_a_working_key(
    engine: Engine, security_module: SoftwareSecurityModule
) -> None:
    """The demo supply group's wrapped key makes tokens that decode for a demo meter."""
    from datetime import UTC, datetime

    from stsgas.sts import credit_token

    with make_sessionmaker(engine).begin() as s:
        assert demo.load(s, security_module)
    with make_sessionmaker(engine)() as s:
        m = s.execute(select(Meter).order_by(Meter.id)).scalars().first()
        assert m is not None
        cfg = meter_config(s, security_module, m.pan)
    issued = credit_token(cfg, "3.5", at=datetime(2026, 6, 1, tzinfo=UTC))
    token = decode(issued.digits, cfg.key())
    assert isinstance(token, CreditToken)
    assert token.units == 35
    assert demo.meter_numbers()[0] == drn_with_check("0100000001")


def test_serve_starts_and_answers_a_demo_login(tmp_path: Path) -> None:
    """`stsgas serve --demo` on a fresh SQLite file serves the API and the demo login works."""
    port = free_port()
    env = {**os.environ, "STSGAS_DATABASE_URL": f"sqlite:///{tmp_path / 'stsgas.db'}"}
    env.pop("STSGAS_MASTER_KEY", None)
    proc = spawn(
        [sys.executable, "-m", "stsgas", "serve", "--demo", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        r = answer(
            lambda: httpx.post(
                f"http://127.0.0.1:{port}/api/v1/auth/login",
                json={"username": "admin", "password": "demo-admin"},
                timeout=2,
            ),
            proc,
        )
        assert r.status_code == 200
        assert r.json()["operator"]["role"] == "admin"
    finally:
        out, _ = stop(proc)
    assert "demo-cashier" in out
    assert f"http://127.0.0.1:{port}/" in out


def test_serve_refuses_a_port_another_server_holds(tmp_path: Path) -> None:
    """A port already listened on is refused at once, in one line naming it, with a
    non-zero exit: before the demo's payment simulator or any worker starts, so
    nothing is left running."""
    env = {**os.environ, "STSGAS_DATABASE_URL": f"sqlite:///{tmp_path / 'stsgas.db'}"}
    env.pop("STSGAS_MASTER_KEY", None)
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        for workers in ("1", "2"):
            serve = ["serve", "--demo", "--port", str(port), "--workers", workers]
            done = subprocess.run(
                [sys.executable, "-m", "stsgas", *serve],
                env=env,
                cwd=tmp_path,
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert done.returncode == 2, (done.stdout, done.stderr)
            assert done.stderr.strip().endswith(
                f"cannot listen on 127.0.0.1:{port}: Address already in use"
            ), done.stderr
            assert "simulator" not in done.stdout
