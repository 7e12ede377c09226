"""/api/v1/meters: thin endpoints, including the lookup before payment."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response, status

from stsgas.vending import transaction
from stsgas.vending.customers.service import mask_name
from stsgas.vending.deps import SecurityModuleDep, SessionDep, SettingsDep
from stsgas.vending.kit.params import Offset, RowId
from stsgas.vending.management import service as management
from stsgas.vending.meters import service
from stsgas.vending.meters.repository import MeterRepository
from stsgas.vending.meters.schemas import (
    KeyChangeIn,
    LastSaleOut,
    LinkIn,
    LookupOut,
    MeterIn,
    MeterOut,
    RechargeLimitIn,
    Refusal,
    StatusIn,
    SupplyGroupRef,
    TariffIn,
)
from stsgas.vending.models import ManagementKind, MeterMode, MeterStatus, Operator
from stsgas.vending.operators.auth import require
from stsgas.vending.operators.permissions import Permission

router = APIRouter(prefix="/meters", tags=["meters"])
Writer = Annotated[Operator, Depends(require(Permission.METERS_WRITE))]
Reader = Annotated[Operator, Depends(require(Permission.METERS_READ))]
LookupRole = Annotated[Operator, Depends(require(Permission.METERS_LOOKUP))]
Asker = Annotated[Operator, Depends(require(Permission.MGMT_REQUEST))]


@router.post("", response_model=MeterOut, status_code=status.HTTP_201_CREATED)
def create(body: MeterIn, session: SessionDep, actor: Writer) -> MeterOut:
    """Register a meter (its number's check digits are verified)."""
    return transaction.run(
        session,
        lambda: MeterOut.model_validate(service.create(session, actor=actor, **body.model_dump())),
    )


@router.get("", response_model=list[MeterOut])
def list_meters(
    session: SessionDep,
    _r: Reader,
    response: Response,
    status_: Annotated[MeterStatus | None, Query(alias="status")] = None,
    customer_id: RowId | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
) -> list[MeterOut]:
    """A page of meters; the total is in X-Total-Count."""
    rows, total = MeterRepository(session).page(
        status=status_.value if status_ else None,
        customer_id=customer_id,
        limit=limit,
        offset=offset,
    )
    response.headers["X-Total-Count"] = str(total)
    return [MeterOut.model_validate(m) for m in rows]


@router.get("/{number}/lookup", response_model=LookupOut)
def lookup(number: str, session: SessionDep, settings: SettingsDep, who: LookupRole) -> LookupOut:
    """Confirm a meter before payment: masked name, mode, status, last sale, key change,
    and why a sale by this operator would be refused."""
    found = service.lookup(
        session,
        number,
        window=timedelta(days=settings.key_warning_days),
        seller_vendor_id=who.vendor_id,
    )
    m, sale, sg = found.meter, found.last_sale, found.meter.supply_group
    last = None
    if sale is not None:
        last = LastSaleOut(
            id=sale.id,
            created_at=sale.created_at,
            amount_paid=sale.amount_paid,
            credit_units=sale.credit_units,
            credit_money=sale.credit_money,
            status=sale.status,
        )
    return LookupOut(
        meter_id=m.id,
        pan=m.pan,
        drn=m.drn,
        customer_name=None if found.customer is None else mask_name(found.customer.name),
        mode=MeterMode(m.mode),
        status=MeterStatus(m.status),
        supply_group=SupplyGroupRef(id=sg.id, sgc=sg.sgc, krn=sg.krn),
        tariff=None if m.tariff is None else m.tariff.name,
        last_sale=last,
        key_change_needed=bool(found.key_change_reasons),
        key_change_reasons=found.key_change_reasons,
        warnings=found.warnings,
        can_sell=found.can_sell,
        cannot_sell=[Refusal(code=c, detail=d) for c, d in found.cannot_sell],
        recharge_limit=m.recharge_limit,
    )


@router.get("/{meter_id}", response_model=MeterOut)
def get(meter_id: RowId, session: SessionDep, _r: Reader) -> MeterOut:
    """One meter."""
    return MeterOut.model_validate(service.get(session, meter_id))


@router.post("/{meter_id}/status", response_model=MeterOut)
def set_status(meter_id: RowId, body: StatusIn, session: SessionDep, actor: Writer) -> MeterOut:
    """Block, unblock or retire a meter."""
    return transaction.run(
        session,
        lambda: MeterOut.model_validate(
            service.set_status(
                session, actor=actor, meter_id=meter_id, status=body.status, reason=body.reason
            )
        ),
    )


@router.post("/{meter_id}/tariff", response_model=MeterOut)
def assign_tariff(meter_id: RowId, body: TariffIn, session: SessionDep, actor: Writer) -> MeterOut:
    """Put the meter on a tariff of its mode."""
    return transaction.run(
        session,
        lambda: MeterOut.model_validate(
            service.assign_tariff(session, actor=actor, meter_id=meter_id, tariff_id=body.tariff_id)
        ),
    )


@router.post("/{meter_id}/recharge-limit", response_model=MeterOut)
def set_recharge_limit(
    meter_id: RowId, body: RechargeLimitIn, session: SessionDep, actor: Writer
) -> MeterOut:
    """Record the meter's recharge limit; sales above it are refused at the counter."""
    return transaction.run(
        session,
        lambda: MeterOut.model_validate(
            service.set_recharge_limit(
                session, actor=actor, meter_id=meter_id, recharge_limit=body.recharge_limit
            )
        ),
    )


@router.post("/{meter_id}/customer", response_model=MeterOut)
def link_customer(meter_id: RowId, body: LinkIn, session: SessionDep, actor: Writer) -> MeterOut:
    """Link the meter to a customer."""
    return transaction.run(
        session,
        lambda: MeterOut.model_validate(
            service.link_customer(
                session, actor=actor, meter_id=meter_id, customer_id=body.customer_id
            )
        ),
    )


@router.post("/{meter_id}/key-change", status_code=status.HTTP_202_ACCEPTED, response_model=None)
def ask_key_change(
    meter_id: RowId,
    body: KeyChangeIn,
    session: SessionDep,
    security: SecurityModuleDep,
    actor: Asker,
) -> dict[str, Any]:
    """Ask for a key change that the meter's next sale carries: a four-eyes management
    request (``kind`` key_change, ``with_next_sale``) that another operator approves at
    ``POST /management/requests/{id}/approve``; nothing is scheduled before that."""

    def unit() -> dict[str, Any]:
        meter = service.get(session, meter_id)
        params: dict[str, Any] = {**body.model_dump(exclude={"reason"}), "with_next_sale": True}
        asked = management.ask(
            session,
            operator=actor,
            meter_number=meter.pan,
            kind=ManagementKind.KEY_CHANGE,
            params=params,
            reason=body.reason,
            security=security,
        )
        return management.view(session, asked.request)

    return transaction.run(session, unit)
