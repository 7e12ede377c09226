"""Readout fixtures: the two meters the office's readout files were read from.

The files in tests/data/readout name DRNs 07770000102 (volume) and 07770000201
(amount); ``office`` registers both in the shop's supply group and commits them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from stsgas.vending.db import make_sessionmaker
from stsgas.vending.models import MeterMode, SupplyGroup, Tariff
from tests.vending import factories
from tests.vending.sales.conftest import Shop

DATA = Path(__file__).resolve().parents[2] / "data" / "readout"
VOLUME_DRN = "07770000102"
AMOUNT_DRN = "07770000201"


def readout_bytes(name: str) -> bytes:
    """A readout fixture's bytes, as a field device would upload them."""
    return (DATA / name).read_bytes()


def readout_json(name: str) -> dict[str, Any]:
    """A readout fixture as an object (to make variants of it)."""
    data: dict[str, Any] = json.loads(readout_bytes(name))
    return data


def as_bytes(data: dict[str, Any]) -> bytes:
    """An object as readout file bytes."""
    return json.dumps(data).encode()


@dataclass(frozen=True, slots=True, kw_only=True)
class Office:
    """The ids of the two read meters."""

    volume_id: int
    amount_id: int
    volume_pan: str
    amount_pan: str


@pytest.fixture
def office(engine: Engine, shop: Shop) -> Office:
    """The read meters, registered on the shop's tariffs (committed)."""
    with make_sessionmaker(engine).begin() as s:
        sg = s.get(SupplyGroup, shop.group_id)
        assert sg is not None
        tariffs = {t.mode: t for t in s.execute(select(Tariff)).scalars()}
        vol = factories.meter(
            s, sg, iin="600727", drn=VOLUME_DRN, tariff=tariffs.get(MeterMode.VOLUME.value)
        )
        amt = factories.meter(
            s,
            sg,
            iin="600727",
            drn=AMOUNT_DRN,
            mode=MeterMode.AMOUNT,
            tariff=tariffs.get(MeterMode.AMOUNT.value),
        )
        return Office(volume_id=vol.id, amount_id=amt.id, volume_pan=vol.pan, amount_pan=amt.pan)
