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


def _keep_newest(
    session: Session,
    model: Any,
    key: str,
    fresh: dict[Any, dict[str, Any]],
    stored: Any,
    base: dict[str, Any],
) -> None:
    """Rows ``stored`` already has take ``fresh``'s values when this readout is as
    new or newer (a month in progress grows); the keys not stored yet are inserted.

    One rule for months, hours and settings: the later reading of a thing wins."""
    read_at = base["read_at"]
    for row in session.execute(stored).scalars():
        values = fresh.pop(getattr(row, key), None)
        if values is not None and read_at >= row.read_at:
            for name, value in values.items():
                setattr(row, name, value)
            row.read_at, row.readout_id = read_at, base["readout_id"]
    if fresh:
        session.execute(insert(model), [{**base, key: k, **v} for k, v in fresh.items()])


def _merge(session: Session, meter_id: int, readout_id: int, parsed: ReadoutFile) -> None:
    base: dict[str, Any] = {
        "meter_id": meter_id,
        "readout_id": readout_id,
        "read_at": parsed.read_at,
    }
    if parsed.monthly:
        months = {m.month: {"litres": m.litres, "amount": m.amount} for m in parsed.monthly}
        in_file = MonthlyUse.month.in_(list(months))
        rows = select(MonthlyUse).where(MonthlyUse.meter_id == meter_id, in_file)
        _keep_newest(session, MonthlyUse, "month", months, rows, base)
    if parsed.hourly:
        hours = {h.hour: {"litres": h.litres} for h in parsed.hourly}
        in_span = select(HourlyUse).where(
            HourlyUse.meter_id == meter_id,
            HourlyUse.hour >= min(hours),
            HourlyUse.hour <= max(hours),
        )
        _keep_newest(session, HourlyUse, "hour", hours, in_span, base)
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
        ids = {"meter_id": meter_id, "readout_id": readout_id}
        if events:
            new = [{**ids, "at": e.at, "code": e.code, "detail": e.detail} for e in events.values()]
            session.execute(insert(MeterEvent), new)
    if parsed.settings:
        settings = {name: {"value": value} for name, value in parsed.settings.items()}
        named = ReadSetting.name.in_(list(settings))
        known_names = select(ReadSetting).where(ReadSetting.meter_id == meter_id, named)
        _keep_newest(session, ReadSetting, "name", settings, known_names, base)
    session.flush()
