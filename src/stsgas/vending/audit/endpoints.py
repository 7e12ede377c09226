"""/api/v1/audit: read the log and verify its chain (admin, auditor)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict

from stsgas.vending.audit import service
from stsgas.vending.audit.repository import AuditRepository
from stsgas.vending.deps import SessionDep
from stsgas.vending.kit.params import Offset
from stsgas.vending.models import AuditEntry, Operator
from stsgas.vending.operators.auth import require
from stsgas.vending.operators.permissions import Permission

router = APIRouter(prefix="/audit", tags=["audit"])
Reader = Annotated[Operator, Depends(require(Permission.AUDIT_READ))]


class AuditOut(BaseModel):
    """One audit entry."""

    model_config = ConfigDict(from_attributes=True)

    seq: int
    at: datetime
    actor: str
    action: str
    object_type: str
    object_id: str
    data: dict[str, Any]
    hash: str


class ChainOut(BaseModel):
    """Result of a chain verification."""

    ok: bool
    entries: int
    first_bad_seq: int | None
    reason: str


@router.get("", response_model=list[AuditOut])
def list_entries(
    session: SessionDep,
    _reader: Reader,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Offset = 0,
) -> list[AuditOut]:
    """The newest entries first."""
    repo = AuditRepository(session)
    rows, _ = repo.paginate(
        repo.select().order_by(AuditEntry.seq.desc()), limit=limit, offset=offset
    )
    return [AuditOut.model_validate(r) for r in rows]


@router.get("/verify", response_model=ChainOut)
def verify(session: SessionDep, _reader: Reader) -> ChainOut:
    """Recompute the hash chain."""
    report = service.verify_chain(session)
    return ChainOut(
        ok=report.ok,
        entries=report.entries,
        first_bad_seq=report.first_bad_seq,
        reason=report.reason,
    )
