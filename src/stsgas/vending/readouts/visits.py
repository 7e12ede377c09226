"""Meters someone must go to: a visit-worthy event since the meter was last visited.

An event needs a visit when its code is one of :data:`VISIT_CODES` and it
happened after the meter's latest visit (``meter_visits.visited_at``): a readout
brought in after a visit may still carry the events that visit dealt with, and
they stay cleared. Marking a meter visited is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from stsgas.vending.audit import service as audit
from stsgas.vending.meters import service as meters
from stsgas.vending.models import Meter, MeterEvent, MeterVisit, Operator

__all__ = ["VISIT_CODES", "Flag", "flags", "last_visit", "mark_visited"]

#: event codes that send someone to the meter
VISIT_CODES: Final = frozenset(
    {
        "magnetic_interference",
        "valve_open_failure",
        "valve_close_failure",
        "battery_low_1",
        "battery_low_2",
        "excess_flow",
        "leak_shutoff",
    }
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Flag:
    """A meter that needs a visit, and why."""

    meter_id: int
    pan: str
    events: int
    first_at: datetime
    last_at: datetime
    codes: tuple[str, ...]
    last_visit: datetime | None


def _open_events(meter_id: int | None) -> Select[int, str, datetime, str, datetime | None]:
    visited = (
        select(MeterVisit.meter_id, func.max(MeterVisit.visited_at).label("at"))
        .group_by(MeterVisit.meter_id)
        .subquery()
    )
    stmt = (
        select(Meter.id, Meter.pan, MeterEvent.at, MeterEvent.code, visited.c.at)
        .join(MeterEvent, MeterEvent.meter_id == Meter.id)
        .outerjoin(visited, visited.c.meter_id == Meter.id)
        .where(
            MeterEvent.code.in_(sorted(VISIT_CODES)),
            or_(visited.c.at.is_(None), and_(MeterEvent.at > visited.c.at)),
        )
        .order_by(Meter.id, MeterEvent.at)
    )
    if meter_id is not None:
        stmt = stmt.where(Meter.id == meter_id)
    return stmt


def flags(session: Session, *, meter_id: int | None = None) -> list[Flag]:
    """Meters needing a visit (one meter's, when ``meter_id``), the longest waiting first."""
    grouped: dict[int, list[tuple[str, datetime, str, datetime | None]]] = {}
    for mid, pan, at, code, visited in session.execute(_open_events(meter_id)).all():
        grouped.setdefault(mid, []).append((pan, at, code, visited))
    out = [
        Flag(
            meter_id=mid,
            pan=rows[0][0],
            events=len(rows),
            first_at=rows[0][1],
            last_at=rows[-1][1],
            codes=tuple(sorted({r[2] for r in rows})),
            last_visit=rows[0][3],
        )
        for mid, rows in grouped.items()
    ]
    return sorted(out, key=lambda f: (f.first_at, f.meter_id))


def last_visit(session: Session, meter_id: int) -> MeterVisit | None:
    """The meter's latest visit."""
    stmt = (
        select(MeterVisit)
        .where(MeterVisit.meter_id == meter_id)
        .order_by(MeterVisit.visited_at.desc(), MeterVisit.id.desc())
        .limit(1)
    )
    return session.execute(stmt).scalar_one_or_none()


def mark_visited(
    session: Session, *, actor: Operator, meter_id: int, note: str, now: datetime
) -> MeterVisit:
    """Record a visit at ``now``: the meter's visit-worthy events up to now are dealt with."""
    meter = meters.get(session, meter_id, for_update=True)
    cleared = flags(session, meter_id=meter.id)
    visit = MeterVisit(meter_id=meter.id, visited_at=now, operator_id=actor.id, note=note)
    session.add(visit)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="meter.visited",
        object_type="meter",
        object_id=meter.id,
        data={
            "visit_id": visit.id,
            "note": note,
            "events_cleared": cleared[0].events if cleared else 0,
            "codes": list(cleared[0].codes) if cleared else [],
        },
        at=now,
    )
    return visit
