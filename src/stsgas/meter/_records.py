"""The meter's NVM records: their bytes, their versions, and how old ones load.

Each record but ``hour`` is compact JSON ``[version, value]``; ``hour`` is
``H1`` + packed int64 (hour, litres) pairs. A record written by an older
meter loads in today's form: the fields it predates take the meaning the
older meter gave them, and it is written back in today's version at the
next commit.
"""

from __future__ import annotations

import json
from array import array
from datetime import datetime
from typing import Any

from stsgas.meter.settings import MeterSettings
from stsgas.sts import BaseDate, TidError, tid_for

__all__ = ["VERSIONS", "commission_tids", "pack", "unpack", "unpack_hours"]

#: record versions written now (records not named are version 1)
VERSIONS = {"reg": 2, "cfg": 2}


def pack(name: str, value: Any) -> bytes:
    """A record's bytes."""
    if name == "hour":
        return b"H1" + bytes(value.tobytes())
    return json.dumps([VERSIONS.get(name, 1), value], separators=(",", ":")).encode()


def unpack_hours(data: bytes) -> array[int]:
    """The hourly record as a flat array of (hour, litres) pairs."""
    if data[:2] != b"H1":
        raise ValueError("hourly record has an unknown version")
    flat = array("q")
    flat.frombytes(data[2:])
    return flat


def unpack(name: str, data: bytes, settings: MeterSettings) -> tuple[Any, bool]:
    """A JSON record in today's form, and whether it was older (so to be rewritten).

    reg v1 has no emergency-gas flag (on when the saved valve was open in the
    overdraft: the older meter was then giving emergency gas) and no base-date-end
    mark. cfg v1 has no clock settings: the older meter billed by UTC months on
    the 1st; it takes the zone and billing day it is configured with (UTC and the
    1st unless set).
    """
    version, value = json.loads(data)
    if not 1 <= version <= VERSIONS.get(name, 1):
        raise ValueError(f"record {name} has unknown version {version}")
    if name == "reg" and version < 2:
        credit, line = value["credit"], -settings.overdraft
        value.setdefault("emerg", bool(value["valve"] and line < credit <= 0))
        value.setdefault("bd_end", 0)
        value.setdefault("moves", 0)
    if name == "cfg" and version < 2:
        value.setdefault("tz", settings.timezone)
        value.setdefault("billing_day", settings.billing_day)
    return value, version < VERSIONS.get(name, 1)


def commission_tids(now: datetime, base_date: BaseDate) -> list[int]:
    """The TID memory a new meter starts with: the minute before commissioning (M2).

    Seeding one minute early lets a token vended in the commissioning minute in,
    while older ones stay below the memory's floor. A meter commissioned after its
    base date's last minute cannot name the minute; it starts with an empty memory
    (and refuses TID-bearing tokens until a key change).
    """
    try:
        seed = tid_for(now, base_date) - 1
    except TidError:
        return []
    return [seed] if seed >= 0 else []
