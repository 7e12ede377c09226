"""/api/v1/meters/.../readouts, history, reconciliation and visits: thin endpoints.

Reading needs ``meters.read``; uploading a readout and marking a meter visited
change what the office knows, so they need ``meters.write`` (supervisors and
admins). This router is included before the meters router: ``/meters/visits``
must not be read as a meter id.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status
from starlette.datastructures import UploadFile

from stsgas.vending import transaction
from stsgas.vending.deps import SessionDep, SettingsDep
from stsgas.vending.kit.params import RowId
from stsgas.vending.meters import service as meters
from stsgas.vending.models import Operator, utcnow
from stsgas.vending.operators.auth import require
from stsgas.vending.operators.permissions import Permission
from stsgas.vending.readouts import store, views, visits
from stsgas.vending.readouts.errors import BadReadout
from stsgas.vending.readouts.reconcile import reconcile_meter
from stsgas.vending.readouts.schemas import (
    HistoryOut,
    ReadoutOut,
    ReconciliationOut,
    VisitFlagOut,
    VisitIn,
    VisitOut,
)

router = APIRouter(prefix="/meters", tags=["readouts"])
Writer = Annotated[Operator, Depends(require(Permission.METERS_WRITE))]
Reader = Annotated[Operator, Depends(require(Permission.METERS_READ))]


async def readout_content(request: Request) -> bytes:
    """The file's bytes: the whole body (JSON), or the multipart field ``file``."""
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        async with request.form(max_files=1, max_fields=4) as form:
            sent = form.get("file")
            if not isinstance(sent, UploadFile):
                raise BadReadout("send the readout file as the multipart field 'file'")
            return await sent.read()
    return await request.body()


Content = Annotated[bytes, Depends(readout_content)]


def _upload(
    session: SessionDep,
    settings: SettingsDep,
    actor: Operator,
    content: bytes,
    meter_id: int | None,
) -> tuple[ReadoutOut, bool]:
    def unit() -> tuple[ReadoutOut, bool]:
        kept = store.upload(
            session,
            content=content,
            actor=actor,
            decimals=settings.currency_decimals,
            meter_id=meter_id,
        )
        body = views.readout_out(session, kept.readout, kept.meter.pan, created=kept.created)
        return body, kept.created

    return transaction.run(session, unit)


@router.post("/readouts", response_model=ReadoutOut, status_code=status.HTTP_201_CREATED)
def upload_any(
    content: Content, session: SessionDep, settings: SettingsDep, actor: Writer, response: Response
) -> ReadoutOut:
    """Upload a readout file to the meter it names (201; 200 when the same file was kept
    before: nothing is stored twice)."""
    body, created = _upload(session, settings, actor, content, None)
    if not created:
        response.status_code = status.HTTP_200_OK
    return body


@router.get("/visits", response_model=list[VisitFlagOut])
def visit_list(session: SessionDep, _r: Reader) -> list[VisitFlagOut]:
    """Meters with visit-worthy events since their last visit, the longest waiting first."""
    return [views.flag_out(f) for f in visits.flags(session)]


@router.post("/{meter_id}/readouts", response_model=ReadoutOut, status_code=status.HTTP_201_CREATED)
def upload(
    meter_id: RowId,
    content: Content,
    session: SessionDep,
    settings: SettingsDep,
    actor: Writer,
    response: Response,
) -> ReadoutOut:
    """Upload a readout file of this meter (422 ``readout_meter_mismatch`` when the file
    was read from another one)."""
    body, created = _upload(session, settings, actor, content, meter_id)
    if not created:
        response.status_code = status.HTTP_200_OK
    return body


@router.get("/{meter_id}/readouts", response_model=list[ReadoutOut])
def readout_list(
    meter_id: RowId,
    session: SessionDep,
    _r: Reader,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[ReadoutOut]:
    """The meter's readouts, the newest first."""
    return views.readouts_of(session, meters.get(session, meter_id), limit)


@router.get("/{meter_id}/history", response_model=HistoryOut)
def history(
    meter_id: RowId,
    session: SessionDep,
    settings: SettingsDep,
    _r: Reader,
    hours: Annotated[int, Query(ge=1, le=10_000)] = 24 * 14,
    events: Annotated[int, Query(ge=1, le=10_000)] = 200,
) -> HistoryOut:
    """Months, the newest hours and events, registers and settings as last read."""
    meter = meters.get(session, meter_id)
    return views.history(
        session, meter, hours=hours, events=events, decimals=settings.currency_decimals
    )


@router.get("/{meter_id}/reconciliation", response_model=ReconciliationOut)
def reconciliation(
    meter_id: RowId, session: SessionDep, settings: SettingsDep, _r: Reader
) -> ReconciliationOut:
    """Gas (or money) sold against what the meter used, per month, with the running
    balance; months where it used more than sold plus its overdraft are flagged."""
    meter = meters.get(session, meter_id)
    rec = reconcile_meter(
        session, meter, vending_tz=settings.zone, decimals=settings.currency_decimals
    )
    return views.reconciliation_out(meter, rec, decimals=settings.currency_decimals)


@router.post("/{meter_id}/visits", response_model=VisitOut, status_code=status.HTTP_201_CREATED)
def mark_visited(meter_id: RowId, body: VisitIn, session: SessionDep, actor: Writer) -> VisitOut:
    """Someone went to the meter: its visit flag clears (audited)."""

    def unit() -> VisitOut:
        v = visits.mark_visited(
            session, actor=actor, meter_id=meter_id, note=body.note, now=utcnow()
        )
        return VisitOut(id=v.id, meter_id=v.meter_id, visited_at=v.visited_at, note=v.note)

    return transaction.run(session, unit)
