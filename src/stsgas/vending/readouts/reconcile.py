"""What the meter used against what was sold to it, month by month.

By volume (volume meters) the meter's monthly litres are set against the litres
of the completed sales of the same local month (the meter's billing period: it starts
at 00:00 local on the billing day as read, and is named by the month it starts in);
by money (amount meters) the money the meter charged (the readout's figure, else
the month's gas at the flat rate last issued to the meter) against the money credited.
A running balance carries the credit over from month to month: it starts from
what was sold before the readout's first month less what the meter had counted
before it (its ``total_m3`` register less the months listed). Where the balance
goes below minus the meter's overdraft, the meter used more gas than it was ever
sold plus the credit it may borrow: a possible bypass or a foreign token.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session

from stsgas.vending.kit.localtime import UnknownTimeZone, local_date, zone
from stsgas.vending.kit.money import minor_per_major
from stsgas.vending.kit.volume import LITRES_PER_M3, LITRES_PER_UNIT
from stsgas.vending.models import Meter, MonthlyUse, Readout, ReadSetting, Sale, SaleStatus

__all__ = ["Reconciliation", "Row", "period_of", "reconcile", "reconcile_meter"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Row:
    """One month: sold and used in litres (volume) or minor units (amount)."""

    month: str
    sold: int
    used: int | None
    #: sold - used (None: the meter's figure is unknown)
    difference: int | None
    #: the credit left by the sales after this month's use (opening included)
    balance: int | None
    #: the balance fell below minus the overdraft
    flagged: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Reconciliation:
    """A meter's months, oldest first."""

    mode: str
    overdraft: int
    opening: int
    rows: tuple[Row, ...]

    @property
    def flagged(self) -> tuple[str, ...]:
        """The months where the meter used more than it was sold plus its overdraft."""
        return tuple(r.month for r in self.rows if r.flagged)


def _months(first: str, last: str) -> list[str]:
    y, m = int(first[:4]), int(first[5:7])
    out = []
    while f"{y:04d}-{m:02d}" <= last:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def period_of(day: date, billing_day: int) -> str:
    """The meter's name for the billing period holding local date ``day``: the month
    the period started in (before the billing day, that is the month before)."""
    y, m = day.year, day.month
    if day.day < billing_day:
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return f"{y:04d}-{m:02d}"


def reconcile(
    *,
    mode: str,
    used: dict[str, int | None],
    sales: Iterable[tuple[datetime, int]],
    tz: tzinfo,
    overdraft: int,
    used_before: int = 0,
    billing_day: int = 1,
) -> Reconciliation:
    """Set the meter's months ``used`` against ``sales`` ((when, sold)) counted in the
    meter's billing periods (local time of ``tz``, starting on ``billing_day``); sales
    before the first month open the balance (by volume)."""
    if not used:
        return Reconciliation(mode=mode, overdraft=overdraft, opening=0, rows=())
    months = _months(min(used), max(used))
    sold: dict[str, int] = dict.fromkeys(months, 0)
    sold_before = 0
    for at, value in sales:
        month = period_of(local_date(at, tz), billing_day)
        if month < months[0]:
            sold_before += value
        elif month in sold:
            sold[month] += value
    opening = sold_before - used_before if mode == "volume" else 0
    balance: int | None = opening
    rows = []
    for month in months:
        took = used.get(month, 0 if mode == "volume" else None)
        diff = None if took is None else sold[month] - took
        # unknown once (an amount month without its figure), unknown after: no false alarm
        balance = None if diff is None or balance is None else balance + diff
        rows.append(
            Row(
                month=month,
                sold=sold[month],
                used=took,
                difference=diff,
                balance=balance,
                flagged=balance is not None and balance < -overdraft,
            )
        )
    return Reconciliation(mode=mode, overdraft=overdraft, opening=opening, rows=tuple(rows))


def _decimal(text: str | None) -> Decimal | None:
    if text is None:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _billing_day(text: str | None) -> int:
    """The billing day as read (1 when missing or not a day the meter allows)."""
    day = _decimal(text)
    return int(day) if day is not None and day == day.to_integral() and 1 <= day <= 28 else 1


def _scaled(text: str | None, scale: int) -> int:
    value = _decimal(text)
    return 0 if value is None or value < 0 else int(value * scale)


def reconcile_meter(
    session: Session, meter: Meter, *, vending_tz: tzinfo, decimals: int
) -> Reconciliation:
    """The reconciliation of ``meter`` from its merged months, settings and sales."""
    rows: Sequence[MonthlyUse] = (
        session.execute(select(MonthlyUse).where(MonthlyUse.meter_id == meter.id)).scalars().all()
    )
    settings = dict(
        session.execute(
            select(ReadSetting.name, ReadSetting.value).where(ReadSetting.meter_id == meter.id)
        ).all()
    )
    latest = session.execute(
        select(Readout)
        .where(Readout.meter_id == meter.id)
        .order_by(Readout.read_at.desc(), Readout.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    try:
        tz: tzinfo = zone(settings["timezone"]) if "timezone" in settings else vending_tz
    except UnknownTimeZone:
        tz = vending_tz
    volume = meter.mode == "volume"
    scale = LITRES_PER_M3 if volume else minor_per_major(decimals)
    used: dict[str, int | None] = {r.month: r.litres if volume else r.amount for r in rows}
    rate = meter.loaded_tariff_rate
    if not volume and rate is not None:
        # no money figure in the readout: the flat rate issued to the meter (minor units
        # per m³, as the meter page shows it) prices the month's gas
        for r in rows:
            if r.amount is None:
                used[r.month] = r.litres * rate // LITRES_PER_M3
    stmt = select(Sale.created_at, Sale.credit_units, Sale.credit_money).where(
        Sale.meter_id == meter.id, Sale.status == SaleStatus.COMPLETED.value
    )
    if latest is not None:
        stmt = stmt.where(Sale.created_at <= latest.read_at)
    sales = [
        (at, (units or 0) * LITRES_PER_UNIT if volume else (money or 0))
        for at, units, money in session.execute(stmt).all()
    ]
    used_before = 0
    if volume and latest is not None:
        total = _scaled(latest.registers.get("total_m3"), LITRES_PER_M3)
        used_before = max(0, total - sum(r.litres for r in rows))
    return reconcile(
        mode=meter.mode,
        used=used,
        sales=sales,
        tz=tz,
        overdraft=_scaled(settings.get("overdraft"), scale),
        used_before=used_before,
        billing_day=_billing_day(settings.get("billing_day")),
    )
