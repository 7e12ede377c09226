"""How management requests are shown: the pending list an approver reads, one request
with its tokens in entry order (and its signed IR command, once issued)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stsgas.vending.errors import NotFound
from stsgas.vending.models import ManagementKind, ManagementRequest, Meter, Operator
from stsgas.vending.models import Token as TokenRow
from stsgas.vending.sales import receipt_parts


def listing(session: Session, *, status: str | None, limit: int) -> list[dict[str, Any]]:
    """Requests, newest first (of one status when given), with who asked: what an
    approver reads before approving. Tokens are on the single-request view."""
    stmt = (
        select(ManagementRequest, Meter.pan, Operator.username)
        .join(Meter, Meter.id == ManagementRequest.meter_id)
        .join(Operator, Operator.id == ManagementRequest.requested_by_id)
        .order_by(ManagementRequest.id.desc())
        .limit(limit)
    )
    if status is not None:
        stmt = stmt.where(ManagementRequest.status == status)
    return [
        {
            "id": req.id,
            "meter_number": pan,
            "kind": req.kind,
            "params": req.params,
            "reason": req.reason,
            "status": req.status,
            "requested_by_id": req.requested_by_id,
            "requested_by": username,
            "created_at": req.created_at.isoformat(timespec="seconds"),
        }
        for req, pan, username in session.execute(stmt)
    ]


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
    shown = {
        "id": req.id,
        "meter_number": meter.pan,
        "kind": req.kind,
        "params": req.params,
        "reason": req.reason,
        "status": req.status,
        "requested_by_id": req.requested_by_id,
        "decided_by_id": req.decided_by_id,
        "tokens": [receipt_parts.token_view(t).as_json() for t in rows],
        "ir_command": req.ir_command,
    }
    if req.kind == ManagementKind.CANCEL_SALE.value:  # where the money went, once approved
        shown["refunded_to"] = req.params.get("refunded_to")
        shown["refund_note"] = req.params.get("refund_note")
    return shown
