"""/api/v1/tariffs: thin endpoints."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status
from pydantic import AwareDatetime

from stsgas.vending import transaction
from stsgas.vending.deps import SessionDep
from stsgas.vending.kit.params import RowId
from stsgas.vending.models import Operator
from stsgas.vending.operators.auth import require
from stsgas.vending.operators.permissions import Permission
from stsgas.vending.tariffs import service
from stsgas.vending.tariffs.repository import TariffRepository
from stsgas.vending.tariffs.schemas import TariffIn, TariffOut, VersionIn, VersionOut

router = APIRouter(prefix="/tariffs", tags=["tariffs"])
Writer = Annotated[Operator, Depends(require(Permission.TARIFFS_WRITE))]
Reader = Annotated[Operator, Depends(require(Permission.TARIFFS_READ))]


@router.post("", response_model=TariffOut, status_code=status.HTTP_201_CREATED)
def create(body: TariffIn, session: SessionDep, actor: Writer) -> TariffOut:
    """Add a tariff with its first version (admin)."""
    return transaction.run(
        session,
        lambda: TariffOut.model_validate(
            service.create(
                session,
                actor=actor,
                name=body.name,
                mode=body.mode,
                currency=body.currency,
                version=body.version,
            )
        ),
    )


@router.get("", response_model=list[TariffOut])
def list_tariffs(session: SessionDep, _r: Reader) -> list[TariffOut]:
    """Every tariff with its versions."""
    return [TariffOut.model_validate(t) for t in TariffRepository(session).all_full()]


@router.get("/{tariff_id}", response_model=TariffOut)
def get(tariff_id: RowId, session: SessionDep, _r: Reader) -> TariffOut:
    """One tariff with its versions."""
    return TariffOut.model_validate(service.get(session, tariff_id))


@router.post("/{tariff_id}/versions", response_model=TariffOut, status_code=201)
def add_version(tariff_id: RowId, body: VersionIn, session: SessionDep, actor: Writer) -> TariffOut:
    """Add a new version (new prices from its effective date)."""
    return transaction.run(
        session,
        lambda: TariffOut.model_validate(
            service.add_version(session, actor=actor, tariff_id=tariff_id, version=body)
        ),
    )


@router.get("/{tariff_id}/in-force", response_model=VersionOut)
def in_force(
    tariff_id: RowId, session: SessionDep, _r: Reader, at: AwareDatetime | None = None
) -> VersionOut:
    """The version in force at ``at`` (default: now)."""
    return VersionOut.model_validate(service.in_force(session, tariff_id, at))
