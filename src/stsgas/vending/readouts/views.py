"""Rows of the readout tables as the API's bodies (decimal text, never floats)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from stsgas.vending.kit.money import format_money
from stsgas.vending.models import (
    HourlyUse,
    Meter,
    MeterEvent,
    MonthlyUse,
    Operator,
    Readout,
    ReadSetting,
)
from stsgas.vending.readouts import visits
from stsgas.vending.readouts.parse import litres_text
from stsgas.vending.readouts.reconcile import Reconciliation
from stsgas.vending.readouts.schemas import (
    EventOut,
    HistoryOut,
    HourOut,
    MonthBalanceOut,
    MonthOut,
    ReadoutOut,
    ReconciliationOut,
    VisitFlagOut,
)

__all__ = ["flag_out", "history", "readout_out", "readouts_of", "reconciliation_out"]


def readout_out(session: Session, r: Readout, pan: str, *, created: bool = False) -> ReadoutOut:
    """One readout's body."""
    who = None
    if r.uploaded_by_id is not None:
        who = session.execute(
            select(Operator.username).where(Operator.id == r.uploaded_by_id)
        ).scalar_one_or_none()
    return ReadoutOut(
        id=r.id,
        meter_id=r.meter_id,
        meter_number=pan,
        sha256=r.sha256,
        read_at=r.read_at,
        uploaded_at=r.uploaded_at,
        uploaded_by=who,
        months=r.months,
        hours=r.hours,
        events=r.events,
        created=created,
    )


def readouts_of(session: Session, meter: Meter, limit: int) -> list[ReadoutOut]:
    """The meter's readouts, the newest read first."""
    rows = session.execute(
        select(Readout)
        .where(Readout.meter_id == meter.id)
        .order_by(Readout.read_at.desc(), Readout.id.desc())
        .limit(limit)
    ).scalars()
    return [readout_out(session, r, meter.pan) for r in rows]


def flag_out(f: visits.Flag) -> VisitFlagOut:
    """A visit flag's body."""
    return VisitFlagOut(
        meter_id=f.meter_id,
        meter_number=f.pan,
        events=f.events,
        first_at=f.first_at,
        last_at=f.last_at,
        codes=list(f.codes),
        last_visit=f.last_visit,
    )


def history(
    session: Session, meter: Meter, *, hours: int, events: int, decimals: int
) -> HistoryOut:
    """What the meter's readouts told, merged."""
    last = readouts_of(session, meter, 1)
    latest = None
    if last:
        latest = session.get(Readout, last[0].id)
    monthly = session.execute(
        select(MonthlyUse).where(MonthlyUse.meter_id == meter.id).order_by(MonthlyUse.month)
    ).scalars()
    hourly = list(
        session.execute(
            select(HourlyUse)
            .where(HourlyUse.meter_id == meter.id)
            .order_by(HourlyUse.hour.desc())
            .limit(hours)
        ).scalars()
    )
    logged = list(
        session.execute(
            select(MeterEvent)
            .where(MeterEvent.meter_id == meter.id)
            .order_by(MeterEvent.at.desc(), MeterEvent.id.desc())
            .limit(events)
        ).scalars()
    )
    settings = session.execute(
        select(ReadSetting.name, ReadSetting.value)
        .where(ReadSetting.meter_id == meter.id)
        .order_by(ReadSetting.name)
    ).all()
    flag = visits.flags(session, meter_id=meter.id)
    seen = visits.last_visit(session, meter.id)
    cleared: datetime | None = None if seen is None else seen.visited_at
    return HistoryOut(
        meter_id=meter.id,
        meter_number=meter.pan,
        mode=meter.mode,
        last_readout=last[0] if last else None,
        registers={k: str(v) for k, v in (latest.registers if latest else {}).items()},
        settings=dict(settings),
        monthly=[
            MonthOut(
                month=m.month,
                volume_m3=litres_text(m.litres),
                amount=None if m.amount is None else format_money(m.amount, decimals),
            )
            for m in monthly
        ],
        hourly=[HourOut(hour=h.hour, volume_m3=litres_text(h.litres)) for h in reversed(hourly)],
        events=[
            EventOut(
                at=e.at,
                code=e.code,
                detail=e.detail,
                needs_visit=e.code in visits.VISIT_CODES and (cleared is None or e.at > cleared),
            )
            for e in reversed(logged)
        ],
        visit=flag_out(flag[0]) if flag else None,
    )


def reconciliation_out(meter: Meter, rec: Reconciliation, *, decimals: int) -> ReconciliationOut:
    """A reconciliation's body: m³ for volume meters, money for amount meters."""

    def text(value: int | None) -> str | None:
        if value is None:
            return None
        return litres_text(value) if rec.mode == "volume" else format_money(value, decimals)

    return ReconciliationOut(
        meter_id=meter.id,
        meter_number=meter.pan,
        mode=rec.mode,
        unit="m3" if rec.mode == "volume" else "money",
        overdraft=text(rec.overdraft) or "0",
        opening=text(rec.opening) or "0",
        months=[
            MonthBalanceOut(
                month=r.month,
                sold=text(r.sold) or "0",
                used=text(r.used),
                difference=text(r.difference),
                balance=text(r.balance),
                flagged=r.flagged,
            )
            for r in rec.rows
        ],
        flagged_months=list(rec.flagged),
    )
