"""The customer's meter for vending tests: the firmware model keyed as the database says."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select

from stsgas.meter import MemoryStateStore
from stsgas.meter import Meter as VirtualMeter
from stsgas.vending.db import make_sessionmaker
from stsgas.vending.models import Meter
from tests.vending.conftest import TEST_KEYS


def virtual_meter(engine: Engine, pan: str, mode: str, *, now: datetime) -> VirtualMeter:
    """A fresh virtual meter with the vending database's key data for ``pan``."""
    return VirtualMeter.from_json(meter_doc(engine, pan, mode), store=MemoryStateStore(), now=now)


def meter_doc(engine: Engine, pan: str, mode: str) -> dict[str, Any]:
    """The scenario 'meter' object commissioned with the database's key data for ``pan``
    (what ``stsgas meter start --config`` and ``irpad --config`` read)."""
    with make_sessionmaker(engine)() as s:
        m = s.execute(select(Meter).where(Meter.pan == pan)).scalar_one()
        doc = {
            "pan": m.pan,
            "key_type": 2,
            "sgc": "123456",
            "ti": m.ti,
            "krn": 1,
            "ken": m.ken,
            "base_date": m.base_date,
            "ea": "07",
            "dkga": "02",
            "mode": mode,
            "vending_key": TEST_KEYS["vending_key_dkga02"],
        }
    return doc
