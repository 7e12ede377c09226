"""HTTP layer of reports: JSON by default, CSV with ``?format=csv``."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import PlainTextResponse

from stsgas.vending.deps import SessionDep, SettingsDep
from stsgas.vending.kit import localtime
from stsgas.vending.models import Operator
from stsgas.vending.operators.auth import require
from stsgas.vending.operators.permissions import Permission
from stsgas.vending.reports import service

router = APIRouter(prefix="/reports", tags=["reports"])

ReportReader = Annotated[Operator, Depends(require(Permission.REPORTS_READ))]
Format = Annotated[Literal["json", "csv"], Query()]


def _out(rows: list[dict[str, Any]], fmt: str, name: str) -> Any:
    if fmt == "csv":
        return PlainTextResponse(
            service.to_csv(rows),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    return rows


@router.get("/daily", response_model=None)
def daily(
    session: SessionDep,
    settings: SettingsDep,
    _op: ReportReader,
    day: date | None = None,
    format: Format = "json",
) -> Any:
    """Sales of one local day (STSGAS_TIMEZONE; default today) by channel, vendor and
    status."""
    tz = settings.zone
    day = day or localtime.local_date(datetime.now(UTC), tz)
    return _out(service.daily(session, day, tz), format, f"sales-{day.isoformat()}")


@router.get("/meters/{meter_number}/history", response_model=None)
def meter_history(
    meter_number: str, session: SessionDep, _op: ReportReader, format: Format = "json"
) -> Any:
    """Every token a meter was given, with its sale or management request."""
    return _out(service.meter_history(session, meter_number), format, f"meter-{meter_number}")


@router.get("/reconciliation", response_model=None)
def reconciliation(session: SessionDep, _op: ReportReader, format: Format = "json") -> Any:
    """Ledger balance, money against tokens; ``ok`` when every check holds."""
    report = service.reconciliation(session)
    if format == "csv":
        return _out(report["accounts"], format, "ledger-balances")
    return report
