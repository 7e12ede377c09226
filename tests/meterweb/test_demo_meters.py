"""The meter page's demo meters are the vending demo's meters: same numbers, modes and keys."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from stsgas.cli.meter_web import demo_meters
from stsgas.sts import CreditToken, MeterConfig, credit_token, decode
from stsgas.sts.identity import split_pan
from stsgas.vending import demo
from stsgas.vending.db import make_engine, make_sessionmaker
from stsgas.vending.keys.master import create_master_key_file
from stsgas.vending.keys.security import SoftwareSecurityModule
from stsgas.vending.models import Meter
from stsgas.vending.server import prepare
from stsgas.vending.settings import Settings
from tests.vending.sales.conftest import meter_config


def test_a_token_the_demo_vends_decodes_on_the_demo_meter(tmp_path: Path) -> None:
    """For each meter `stsgas serve --demo` sells to, the page has a meter with its number
    and mode whose decoder key opens a token made from the vending side's key data."""
    url = f"sqlite:///{tmp_path / 'stsgas.db'}"
    assert prepare(Settings(database_url=url, demo=True)).demo_loaded
    module = SoftwareSecurityModule(create_master_key_file(tmp_path / "master.key"))
    docs = demo_meters()
    assert [split_pan(MeterConfig.from_json(d).pan)[1] for d in docs] == demo.meter_numbers()
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as s:
            for doc in docs:
                pan = MeterConfig.from_json(doc).pan
                row = s.execute(select(Meter).where(Meter.pan == pan)).scalar_one()
                assert row.mode == doc["mode"]
                issued = credit_token(
                    meter_config(s, module, pan), "3", at=datetime(2026, 6, 1, tzinfo=UTC)
                )
                token = decode(issued.digits, MeterConfig.from_json(doc).key())
                assert isinstance(token, CreditToken)
    finally:
        engine.dispose()
