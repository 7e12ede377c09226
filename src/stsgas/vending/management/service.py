"""Management token rules: validate, ask, approve by a second person, then issue.

Four-eyes (V4): the operator who asks may not approve. Tokens are made at
approval, inside the approving transaction, with the next free TID of the
meter (the meter row is locked as for a sale). A key change either issues
its token set now (moving the meter's key data in the same transaction) or,
with ``with_next_sale``, marks the meter so its next sale carries the set.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stsgas.sts import (
    BaseDate,
    ClearCredit,
    ClearTamper,
    IssuedToken,
    TariffRate,
    Token,
    management_token,
)
from stsgas.vending.audit import service as audit
from stsgas.vending.errors import Conflict, Forbidden, InvalidInput, MeterNotFound, NotFound
from stsgas.vending.keys.security import SecurityModule
from stsgas.vending.models import (
    ManagementKind,
    ManagementRequest,
    Meter,
    Operator,
    RequestStatus,
    SupplyGroup,
    TokenKind,
)
from stsgas.vending.models import Token as TokenRow
from stsgas.vending.sales import issue, receipts
from stsgas.vending.sales import service as sales_service
from stsgas.vending.sales.repository import MeterRepository

_ALLOWED = {
    ManagementKind.CLEAR_CREDIT: {"register"},
    ManagementKind.CLEAR_TAMPER: set(),
    ManagementKind.SET_TARIFF: {"rate"},
    ManagementKind.KEY_CHANGE: {"supply_group_id", "ti", "base_date", "with_next_sale"},
}


def _int(params: dict[str, Any], name: str, lo: int, hi: int, default: int | None = None) -> int:
    value = params.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise InvalidInput(f"{name} must be an integer {lo}..{hi}")
    return value


def validate(session: Session, kind: ManagementKind, params: dict[str, Any]) -> dict[str, Any]:
    """Check a request's parameters; returns them normalised."""
    extra = set(params) - _ALLOWED[kind]
    if extra:
        raise InvalidInput(f"unknown parameters for {kind.value}: {sorted(extra)}")
    if kind is ManagementKind.CLEAR_CREDIT:
        return {"register": _int(params, "register", 0, 0xFFFF, 0xFFFF)}
    if kind is ManagementKind.SET_TARIFF:
        return {"rate": _int(params, "rate", 0, 0xFFFF)}
    if kind is ManagementKind.CLEAR_TAMPER:
        return {}
    out: dict[str, Any] = {"with_next_sale": bool(params.get("with_next_sale", False))}
    if params.get("supply_group_id") is not None:
        gid = _int(params, "supply_group_id", 1, 2**62)
        if session.get(SupplyGroup, gid) is None:
            raise InvalidInput(f"no supply group {gid}")
        out["supply_group_id"] = gid
    if params.get("ti") is not None:
        ti = str(params["ti"])
        if len(ti) != 2 or not ti.isdigit():
            raise InvalidInput("ti is 2 digits")
        out["ti"] = ti
    if params.get("base_date") is not None:
        out["base_date"] = int(BaseDate.parse(params["base_date"]))
    if len(out) == 1:
        raise InvalidInput("a key change needs a supply_group_id, ti or base_date")
    return out


def _meter(session: Session, number: str) -> Meter:
    found = MeterRepository(session).find_by_number(sales_service.parse_meter_number(number))
    if found is None:
        raise MeterNotFound(f"no meter {number}")
    return found


def ask(
    session: Session, *, operator: Operator, meter_number: str, kind: ManagementKind,
    params: dict[str, Any], reason: str,
) -> ManagementRequest:
    """Record a pending request (audited); nothing is issued yet."""
    meter = _meter(session, meter_number)
    req = ManagementRequest(
        meter_id=meter.id, kind=kind.value, params=validate(session, kind, params),
        reason=reason, status=RequestStatus.PENDING.value, requested_by_id=operator.id,
    )
    session.add(req)
    session.flush()
    audit.record(session, actor=operator, action="mgmt.request", object_type="management",
                 object_id=req.id, data={"meter": meter.pan, "kind": kind.value,
                                         "params": req.params, "reason": reason})
    return req


def _pending(session: Session, request_id: int, operator: Operator) -> ManagementRequest:
    req = session.get(ManagementRequest, request_id, with_for_update=True)
    if req is None:
        raise NotFound(f"no management request {request_id}")
    if req.status != RequestStatus.PENDING.value:
        raise Conflict(f"request {request_id} is already {req.status}")
    if req.requested_by_id == operator.id:
        raise Forbidden("four-eyes: the operator who asked may not approve")
    return req


def reject(session: Session, request_id: int, operator: Operator, reason: str) -> dict[str, Any]:
    """Refuse a pending request."""
    req = _pending(session, request_id, operator)
    req.status = RequestStatus.REJECTED.value
    req.decided_by_id, req.decided_at = operator.id, datetime.now(UTC)
    audit.record(session, actor=operator, action="mgmt.reject", object_type="management",
                 object_id=req.id, data={"reason": reason})
    return view(session, req)


def approve(
    session: Session, request_id: int, operator: Operator, *, security: SecurityModule,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Approve and issue: make the token(s) with the meter locked; audited."""
    now = now or datetime.now(UTC)
    req = _pending(session, request_id, operator)
    meter = MeterRepository(session).lock(req.meter_id)
    kind = ManagementKind(req.kind)
    issued: list[tuple[str, IssuedToken]] = []
    if kind is ManagementKind.KEY_CHANGE:
        meter.pending_supply_group_id = req.params.get("supply_group_id")
        meter.pending_ti = req.params.get("ti")
        meter.pending_base_date = req.params.get("base_date")
        if not req.params.get("with_next_sale"):
            _config, kcts = issue.apply_key_change(session, meter, security, now)
            issued = [(TokenKind.KCT.value, k) for k in kcts]
    else:
        config, kcts = issue.apply_key_change(session, meter, security, now)
        if kcts:
            raise Conflict("the meter has a key change pending; issue that first")
        tid = issue.next_tid(meter, now)
        rnd = secrets.randbelow(16)
        tok: Token
        if kind is ManagementKind.CLEAR_CREDIT:
            tok = ClearCredit(tid=tid, rnd=rnd, register=req.params["register"])
        elif kind is ManagementKind.CLEAR_TAMPER:
            tok = ClearTamper(tid=tid, rnd=rnd)
        else:
            tok = TariffRate(tid=tid, rnd=rnd, rate=req.params["rate"])
        issued = [(TokenKind.MGMT.value, management_token(config, tok))]
        meter.last_tid = tid
    issue.store_tokens(session, issued, meter_id=meter.id, request_id=req.id, now=now)
    req.status = RequestStatus.ISSUED.value if issued else RequestStatus.APPROVED.value
    req.decided_by_id, req.decided_at = operator.id, now
    audit.record(session, actor=operator, action="mgmt.approve", object_type="management",
                 object_id=req.id, data={"meter": meter.pan, "kind": kind.value,
                                         "tokens": len(issued)}, at=now)
    session.flush()
    return view(session, req)


def get(session: Session, request_id: int) -> dict[str, Any]:
    """A request and its tokens."""
    req = session.get(ManagementRequest, request_id)
    if req is None:
        raise NotFound(f"no management request {request_id}")
    return view(session, req)


def view(session: Session, req: ManagementRequest) -> dict[str, Any]:
    """A request as the API shows it, with its tokens in entry order."""
    rows = session.execute(
        select(TokenRow).where(TokenRow.management_request_id == req.id).order_by(TokenRow.sequence)
    ).scalars()
    meter = session.get(Meter, req.meter_id)
    assert meter is not None
    return {
        "id": req.id, "meter_number": meter.pan, "kind": req.kind, "params": req.params,
        "reason": req.reason, "status": req.status, "requested_by_id": req.requested_by_id,
        "decided_by_id": req.decided_by_id, "tokens": [receipts.token_view(t) for t in rows],
    }
