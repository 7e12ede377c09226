"""Keep a readout once and merge its history into the meter's tables.

The unit runs inside ``transaction.run``: it locks the meter row first, so two
uploads for one meter (the same file twice, or two overlapping readouts) take
turns, and the second sees the first's rows. The same bytes (SHA-256) are the
same readout and are answered with the one already kept. A month, hour or
setting already known is overwritten only by a readout taken at the same time
or later (the month in progress grows); an event is known by (time, code).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from stsgas.vending.audit import service as audit
from stsgas.vending.meters import resolve
from stsgas.vending.meters.repository import MeterRepository
from stsgas.vending.models import (
    HourlyUse,
    Meter,
    MeterEvent,
    MonthlyUse,
    Operator,
    Readout,
    ReadSetting,
)
from stsgas.vending.readouts.errors import ReadoutMeterMismatch, ReadoutModeMismatch
from stsgas.vending.readouts.parse import ReadoutFile, parse_readout

__all__ = ["Stored", "sha256_of", "upload"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Stored:
    """The readout kept for a file, and whether this upload kept it (False: seen before)."""

    readout: Readout
    meter: Meter
    created: bool


def sha256_of(content: bytes) -> str:
    """The readout's key: the hex SHA-256 of the file's bytes."""
    return hashlib.sha256(content).hexdigest()


def upload(
    session: Session,
    *,
    content: bytes,
    actor: Operator | None,
    decimals: int,
    meter_id: int | None = None,
) -> Stored:
    """Check ``content`` and keep it (once) for its meter; ``meter_id``: the meter it was
    uploaded to, which must be the one the file names."""
    parsed = parse_readout(content, decimals=decimals)
    meter = resolve.resolve(session, parsed.meter_number)
    if meter_id is not None and meter.id != meter_id:
        raise ReadoutMeterMismatch(
            f"the file was read from meter {meter.pan}, not from meter #{meter_id}",
            pan=meter.pan,
        )
    if parsed.mode != meter.mode:
        raise ReadoutModeMismatch(
            f"the file is in {parsed.mode} mode; meter {meter.pan} is sold to by {meter.mode}"
        )
    meter = MeterRepository(session).lock(meter.id)
    sha = sha256_of(content)
    known = session.execute(select(Readout).where(Readout.sha256 == sha)).scalar_one_or_none()
    if known is not None:
        return Stored(readout=known, meter=meter, created=False)
    readout = Readout(
        meter_id=meter.id,
        sha256=sha,
        read_at=parsed.read_at,
        mode=parsed.mode,
        registers=dict(parsed.registers),
        months=len(parsed.monthly),
        hours=len(parsed.hourly),
        events=len(parsed.events),
        uploaded_by_id=None if actor is None else actor.id,
    )
    session.add(readout)
    session.flush()
    _merge(session, meter.id, readout.id, parsed)
    audit.record(
        session,
        actor=actor,
        action="meter.readout",
        object_type="meter",
        object_id=meter.id,
        data={
            "readout_id": readout.id,
            "sha256": sha,
            "read_at": parsed.read_at.isoformat(),
            "months": readout.months,
            "hours": readout.hours,
            "events": readout.events,
        },
    )
    return Stored(readout=readout, meter=meter, created=True)


def _newer(row_read_at: datetime, read_at: datetime) -> bool:
    return read_at >= row_read_at


def _merge(session: Session, meter_id: int, readout_id: int, parsed: ReadoutFile) -> None:
    read_at = parsed.read_at
    base: dict[str, Any] = {"meter_id": meter_id, "readout_id": readout_id}
    new_rows: list[dict[str, Any]] = []
    if parsed.monthly:
        months = {m.month: m for m in parsed.monthly}
        for row in session.execute(
            select(MonthlyUse).where(
                MonthlyUse.meter_id == meter_id, MonthlyUse.month.in_(list(months))
            )
        ).scalars():
            m = months.pop(row.month)
            if _newer(row.read_at, read_at):
                row.litres, row.amount = m.litres, m.amount
                row.read_at, row.readout_id = read_at, readout_id
        new_rows = [
            {**base, "month": m.month, "litres": m.litres, "amount": m.amount, "read_at": read_at}
            for m in months.values()
        ]
        if new_rows:
            session.execute(insert(MonthlyUse), new_rows)
    if parsed.hourly:
        hours = {h.hour: h for h in parsed.hourly}
        for hrow in session.execute(
            select(HourlyUse).where(
                HourlyUse.meter_id == meter_id,
                HourlyUse.hour >= min(hours),
                HourlyUse.hour <= max(hours),
            )
        ).scalars():
            h = hours.pop(hrow.hour, None)
            if h is not None and _newer(hrow.read_at, read_at):
                hrow.litres, hrow.read_at, hrow.readout_id = h.litres, read_at, readout_id
        new_rows = [
            {**base, "hour": h.hour, "litres": h.litres, "read_at": read_at} for h in hours.values()
        ]
        if new_rows:
            session.execute(insert(HourlyUse), new_rows)
    if parsed.events:
        events = {(e.at, e.code): e for e in parsed.events}
        known = session.execute(
            select(MeterEvent.at, MeterEvent.code).where(
                MeterEvent.meter_id == meter_id,
                MeterEvent.at >= min(k[0] for k in events),
                MeterEvent.at <= max(k[0] for k in events),
            )
        ).all()
        for at, code in known:
            events.pop((at, code), None)
        new_rows = [
            {**base, "at": e.at, "code": e.code, "detail": e.detail} for e in events.values()
        ]
        if new_rows:
            session.execute(insert(MeterEvent), new_rows)
    if parsed.settings:
        settings = dict(parsed.settings)
        for srow in session.execute(
            select(ReadSetting).where(
                ReadSetting.meter_id == meter_id, ReadSetting.name.in_(list(settings))
            )
        ).scalars():
            value = settings.pop(srow.name)
            if _newer(srow.read_at, read_at):
                srow.value, srow.read_at, srow.readout_id = value, read_at, readout_id
        new_rows = [
            {**base, "name": k, "value": v, "read_at": read_at} for k, v in settings.items()
        ]
        if new_rows:
            session.execute(insert(ReadSetting), new_rows)
    session.flush()
