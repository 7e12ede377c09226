"""A pending management request and its audit, made one way for every kind.

Both a management token ask (``management.service.ask``) and a sale take-back
ask (``sales.cancel.ask``) record a request that waits for a second person:
the same idempotency rule (one request per operator and key, the same data
or :class:`IdempotencyMismatch`), the same row and the same ``mgmt.request``
audit entry. Nothing here commits; the caller's transaction does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stsgas.vending.audit import service as audit
from stsgas.vending.errors import IdempotencyMismatch
from stsgas.vending.models import ManagementRequest, Meter, Operator, RequestStatus

__all__ = ["by_key", "prior", "record_pending"]


def by_key(session: Session, operator_id: int, key: str) -> ManagementRequest | None:
    """The request ``operator_id`` asked for under idempotency key ``key``, if any."""
    return session.execute(
        select(ManagementRequest).where(
            ManagementRequest.requested_by_id == operator_id,
            ManagementRequest.idempotency_key == key,
        )
    ).scalar_one_or_none()


def prior(
    session: Session, operator_id: int, key: str | None, fingerprint: str | None
) -> ManagementRequest | None:
    """The request already made under ``key`` with the same data (a retry: answer it
    again), None when there is none; :class:`IdempotencyMismatch` when the key was
    used with other data."""
    if key is None:
        return None
    done = by_key(session, operator_id, key)
    if done is not None and done.request_fingerprint != fingerprint:
        raise IdempotencyMismatch(
            "this idempotency key was used for a different management request"
        )
    return done


def record_pending(
    session: Session,
    *,
    operator: Operator,
    meter: Meter,
    kind: str,
    params: dict[str, Any],
    reason: str,
    idempotency_key: str | None,
    fingerprint: str | None,
    audit_detail: Mapping[str, Any],
    sale_id: int | None = None,
) -> ManagementRequest:
    """Write a pending request and its ``mgmt.request`` audit entry (meter, kind,
    ``audit_detail``, reason); a twin under the same key fails the unique index."""
    req = ManagementRequest(
        meter_id=meter.id,
        kind=kind,
        params=params,
        reason=reason,
        status=RequestStatus.PENDING.value,
        requested_by_id=operator.id,
        sale_id=sale_id,
        idempotency_key=idempotency_key,
        request_fingerprint=fingerprint,
    )
    session.add(req)
    session.flush()
    audit.record(
        session,
        actor=operator,
        action="mgmt.request",
        object_type="management",
        object_id=req.id,
        data={"meter": meter.pan, "kind": kind, **audit_detail, "reason": reason},
    )
    return req
