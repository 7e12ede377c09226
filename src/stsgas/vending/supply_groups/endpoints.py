"""/api/v1/supply-groups: thin endpoints."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel

from stsgas.vending import transaction
from stsgas.vending.deps import SecurityModuleDep, SessionDep, SettingsDep
from stsgas.vending.kit.params import RowId
from stsgas.vending.models import Operator, SupplyGroup
from stsgas.vending.operators.auth import require
from stsgas.vending.operators.permissions import Permission
from stsgas.vending.settings import Settings
from stsgas.vending.supply_groups import service
from stsgas.vending.supply_groups.repository import SupplyGroupRepository
from stsgas.vending.supply_groups.schemas import KeyWarningOut, SupplyGroupIn, SupplyGroupOut

router = APIRouter(prefix="/supply-groups", tags=["supply groups"])
Manager = Annotated[Operator, Depends(require(Permission.SUPPLY_GROUPS_MANAGE))]
Reader = Annotated[Operator, Depends(require(Permission.SUPPLY_GROUPS_READ))]
PosReader = Annotated[Operator, Depends(require(Permission.METERS_LOOKUP))]


def _out(sg: SupplyGroup, settings: Settings) -> SupplyGroupOut:
    warnings = service.warnings_for(sg, window=timedelta(days=settings.key_warning_days))
    return SupplyGroupOut(
        id=sg.id,
        name=sg.name,
        sgc=sg.sgc,
        krn=sg.krn,
        key_type=sg.key_type,
        base_date=sg.base_date,
        ea=sg.ea,
        dkga=sg.dkga,
        ken=sg.ken,
        key_expires_at=sg.key_expires_at,
        is_active=sg.is_active,
        warnings=[
            KeyWarningOut(code=w.code, message=w.message, at=w.at, expired=w.expired)
            for w in warnings
        ],
    )


@router.post("", response_model=SupplyGroupOut, status_code=status.HTTP_201_CREATED)
def create(
    body: SupplyGroupIn,
    session: SessionDep,
    security: SecurityModuleDep,
    settings: SettingsDep,
    actor: Manager,
) -> SupplyGroupOut:
    """Add a supply group key revision (admin). The key is never returned."""
    vending_key = service.parse_key_hex(body.vending_key.get_secret_value())
    sg = transaction.run(
        session,
        lambda: service.create(
            session,
            security,
            actor=actor,
            sgc=body.sgc,
            krn=body.krn,
            vending_key=vending_key,
            key_type=body.key_type,
            base_date=body.base_date,
            ea=body.ea,
            dkga=body.dkga,
            ken=body.ken,
            key_expires_at=body.key_expires_at,
            name=body.name,
        ),
    )
    return _out(sg, settings)


@router.get("", response_model=list[SupplyGroupOut])
def list_groups(session: SessionDep, settings: SettingsDep, _r: Reader) -> list[SupplyGroupOut]:
    """Every supply group with its warnings."""
    return [_out(sg, settings) for sg in SupplyGroupRepository(session).all()]


class GroupWarningOut(KeyWarningOut):
    """A key warning with the supply group it concerns."""

    supply_group_id: int
    sgc: str
    krn: int


@router.get("/warnings", response_model=list[GroupWarningOut])
def all_warnings(
    session: SessionDep, settings: SettingsDep, _o: PosReader
) -> list[GroupWarningOut]:
    """Key expiry and rollover warnings of every active group (shown at the POS too)."""
    window = timedelta(days=settings.key_warning_days)
    return [
        GroupWarningOut(
            supply_group_id=sg.id,
            sgc=sg.sgc,
            krn=sg.krn,
            code=w.code,
            message=f"SGC {sg.sgc} KRN {sg.krn}: {w.message}",
            at=w.at,
            expired=w.expired,
        )
        for sg in SupplyGroupRepository(session).all()
        if sg.is_active
        for w in service.warnings_for(sg, window=window)
    ]


@router.get("/{sg_id}", response_model=SupplyGroupOut)
def get_group(
    sg_id: RowId, session: SessionDep, settings: SettingsDep, _r: Reader
) -> SupplyGroupOut:
    """One supply group with its warnings."""
    return _out(service.get(session, sg_id), settings)


class MigrateIn(BaseModel):
    """The supply group (new KRN or SGC) to move this group's meters to."""

    to_supply_group_id: int


class MigrateOut(BaseModel):
    """How many meters will get key change tokens with their next sale."""

    meters: int


@router.post("/{sg_id}/migrate-meters", response_model=MigrateOut)
def migrate_meters(
    sg_id: RowId,
    body: MigrateIn,
    session: SessionDep,
    security: SecurityModuleDep,
    actor: Manager,
) -> MigrateOut:
    """Roll a new key revision out: schedule a key change for every active meter (admin).
    Meters on another base date move onto the new group's (RO=1); a move the
    key-change rule refuses is 422 ``key_change_*`` and schedules nothing."""
    count = transaction.run(
        session,
        lambda: service.migrate_meters(
            session, security, actor=actor, from_id=sg_id, to_id=body.to_supply_group_id
        ),
    )
    return MigrateOut(meters=count)
