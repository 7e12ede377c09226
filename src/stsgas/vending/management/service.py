"""Management token rules: validate, ask, approve by a second person, then issue.

Four-eyes (V4): the operator who asks may not approve, and the approver is an
activated, non-admin account (:func:`operators.admin.ensure_may_decide`), so
the two eyes belong to two people. Tokens are made at
approval, inside the approving transaction, with the next free TID of the
meter (the meter row is locked as for a sale). A key change either issues
its token set now (moving the meter's key data in the same transaction) or,
with ``with_next_sale``, marks the meter so its next sale carries the set.

Retries are safe (V1). An asker's ``Idempotency-Key`` is stored with a
fingerprint of the request: the same key again returns the same request,
with other data it is refused. A decision repeated by the operator who made
it answers that decision again (the same tokens, nothing issued twice).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from stsgas.sts import (
    BaseDate,
    ClearCredit,
    ClearTamper,
    IssuedToken,
    TariffRate,
    Token,
    datetime_for_tid,
    management_token,
)
from stsgas.vending.audit import service as audit
from stsgas.vending.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
)
from stsgas.vending.keys import rules as key_rules
from stsgas.vending.keys.security import SecurityModule
from stsgas.vending.kit.entropy import nibble
from stsgas.vending.management import ir_settings, ir_tariff, requests
from stsgas.vending.management.views import (
    view as view,  # re-exported: other endpoints show requests
)
from stsgas.vending.meters import resolve
from stsgas.vending.meters.repository import MeterRepository
from stsgas.vending.models import (
    ManagementKind,
    ManagementRequest,
    Meter,
    MeterMode,
    Operator,
    RequestStatus,
    SupplyGroup,
    TokenKind,
)
from stsgas.vending.operators import admin
from stsgas.vending.sales import cancel as sale_cancel
from stsgas.vending.sales import issue

_ALLOWED = {
    ManagementKind.CLEAR_CREDIT: {"register"},
    ManagementKind.CLEAR_TAMPER: set(),
    ManagementKind.SET_TARIFF: {"rate"},
    ManagementKind.KEY_CHANGE: {"supply_group_id", "ti", "base_date", "with_next_sale"},
    ManagementKind.LOAD_TARIFF: ir_tariff.PARAMS,
    ManagementKind.CANCEL_SALE: set(),
    ManagementKind.FIELD_SETTINGS: ir_settings.PARAMS,
}


class TariffRateMode(InvalidInput):
    """A TariffRate token for a meter that does not price its own gas."""

    code = "tariff_rate_mode"
    title = "No tariff rate for this meter"


def _int(params: dict[str, Any], name: str, lo: int, hi: int, default: int | None = None) -> int:
    value = params.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise InvalidInput(f"{name} must be an integer {lo}..{hi}")
    return value


def validate(
    session: Session,
    kind: ManagementKind,
    params: dict[str, Any],
    meter: Meter,
    *,
    security: SecurityModule | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Check a request's parameters (for ``meter``); returns them normalised.

    A key change is checked by the key-change rule at once (with ``security``,
    the decoder keys too), so a set the meter would refuse is never even asked.
    """
    extra = set(params) - _ALLOWED[kind]
    if extra:
        raise InvalidInput(f"unknown parameters for {kind.value}: {sorted(extra)}")
    if kind is ManagementKind.LOAD_TARIFF:
        return ir_tariff.validate(session, meter, params)
    if kind is ManagementKind.FIELD_SETTINGS:
        return ir_settings.validate(session, meter, params)
    if kind is ManagementKind.CANCEL_SALE:
        raise InvalidInput("a sale is taken back with POST /api/v1/sales/{id}/cancel")
    if kind is ManagementKind.CLEAR_CREDIT:
        register = _int(params, "register", 0, 0xFFFF, key_rules.ALL_REGISTERS)
        key_rules.check_register(meter.mode, register)
        return {"register": register}
    if kind is ManagementKind.SET_TARIFF:
        if meter.mode != MeterMode.AMOUNT.value:
            raise TariffRateMode(
                "a volume meter counts m³, not money: a flat rate means "
                "nothing to it (the vending side prices its gas)"
            )
        return {"rate": _int(params, "rate", 0, 0xFFFF)}
    if kind is ManagementKind.CLEAR_TAMPER:
        return {}
    return _key_change_params(session, params, meter, security, now or datetime.now(UTC))


def _key_change_params(
    session: Session,
    params: dict[str, Any],
    meter: Meter,
    security: SecurityModule | None,
    now: datetime,
) -> dict[str, Any]:
    out: dict[str, Any] = {"with_next_sale": bool(params.get("with_next_sale", False))}
    current = session.get(SupplyGroup, meter.supply_group_id)
    assert current is not None
    target = current
    if params.get("supply_group_id") is not None:
        gid = _int(params, "supply_group_id", 1, 2**62)
        found = session.get(SupplyGroup, gid)
        if found is None:
            raise InvalidInput(f"no supply group {gid}")
        target = found
        out["supply_group_id"] = gid
    if params.get("ti") is not None:
        ti = str(params["ti"])
        if len(ti) != 2 or not (ti.isascii() and ti.isdigit()):
            raise InvalidInput("ti is 2 digits")
        out["ti"] = ti
    if params.get("base_date") is not None:
        out["base_date"] = int(BaseDate.parse(params["base_date"]))
    elif target.base_date != meter.base_date and target.id != current.id:
        out["base_date"] = target.base_date  # a meter moves onto its new group's base date
    if len(out) == 1:
        raise InvalidInput("a key change needs a supply_group_id, ti or base_date")
    if (
        out.get("supply_group_id", meter.supply_group_id) == meter.supply_group_id
        and out.get("ti", meter.ti) == meter.ti
        and out.get("base_date", meter.base_date) == meter.base_date
    ):
        raise InvalidInput("the meter already has that key data")
    key_rules.check_target(
        old_kt=current.key_type,
        new_kt=target.key_type,
        old_bd=meter.base_date,
        new_bd=out.get("base_date", meter.base_date),
        now=now,
    )
    if security is not None:
        issue.plan_key_change(
            session,
            meter,
            security,
            now,
            group_id=out.get("supply_group_id"),
            ti=out.get("ti"),
            base_date=out.get("base_date"),
        )
    return out


def _meter(session: Session, number: str) -> Meter:
    return resolve.resolve(session, number)


@dataclass(frozen=True, slots=True, kw_only=True)
class Asked:
    """The request an ``ask`` answers with; ``replayed`` when an earlier call with
    the same idempotency key made it."""

    request: ManagementRequest
    replayed: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Decided:
    """A request as an approval or rejection answers it; ``replayed`` when the
    same operator had already made that decision (a retry)."""

    view: dict[str, Any]
    replayed: bool


def fingerprint(
    meter_number: str, kind: ManagementKind, params: dict[str, Any], reason: str
) -> str:
    """SHA-256 of what makes two asks 'the same' for one idempotency key.

    The meter number is normalised (spaces and dashes dropped); ``params`` are
    taken as sent, so a retry of the same body always matches. Standard JSON
    (not orjson) so an out-of-range integer is hashed, then refused by
    :func:`validate`, instead of failing here.
    """
    doc = {
        "meter": resolve.normalise(meter_number),
        "kind": kind.value,
        "params": params,
        "reason": reason,
    }
    canonical = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def ask(
    session: Session,
    *,
    operator: Operator,
    meter_number: str,
    kind: ManagementKind,
    params: dict[str, Any],
    reason: str,
    idempotency_key: str | None = None,
    security: SecurityModule | None = None,
) -> Asked:
    """Record a pending request (audited); nothing is issued yet.

    With ``idempotency_key``: a request this operator already made under the
    key is returned as it is now (``replayed``; nothing written or audited),
    or :class:`IdempotencyMismatch` when it was made with other data. A twin
    still in flight is caught by the unique ``(requested_by_id, key)`` index:
    the loser's insert fails, and the transaction re-run finds the winner.
    """
    fp = None if idempotency_key is None else fingerprint(meter_number, kind, params, reason)
    done = requests.prior(session, operator.id, idempotency_key, fp)
    if done is not None:
        return Asked(request=done, replayed=True)
    meter = _meter(session, meter_number)
    checked = validate(session, kind, params, meter, security=security)
    req = requests.record_pending(
        session,
        operator=operator,
        meter=meter,
        kind=kind.value,
        params=checked,
        reason=reason,
        idempotency_key=idempotency_key,
        fingerprint=fp,
        audit_detail={"params": checked},
    )
    return Asked(request=req, replayed=False)


def _to_decide(
    session: Session, request_id: int, operator: Operator, done: tuple[RequestStatus, ...]
) -> tuple[ManagementRequest, bool]:
    """The request, locked, and whether ``operator`` already decided it as one of
    ``done`` (a retried call: answer it again). Otherwise it must be pending and
    not the operator's own."""
    req = session.get(ManagementRequest, request_id, with_for_update=True)
    if req is None:
        raise NotFound(f"no management request {request_id}")
    if req.decided_by_id == operator.id and req.status in {s.value for s in done}:
        return req, True
    if req.status != RequestStatus.PENDING.value:
        raise Conflict(f"request {request_id} is already {req.status}")
    if req.requested_by_id == operator.id:
        raise Forbidden("four-eyes: the operator who asked may not approve")
    admin.ensure_may_decide(operator)
    return req, False


def reject(session: Session, request_id: int, operator: Operator, reason: str) -> Decided:
    """Refuse a pending request; the same operator rejecting it again gets it back."""
    req, again = _to_decide(session, request_id, operator, (RequestStatus.REJECTED,))
    if again:
        return Decided(view=view(session, req), replayed=True)
    req.status = RequestStatus.REJECTED.value
    req.decided_by_id, req.decided_at = operator.id, datetime.now(UTC)
    audit.record(
        session,
        actor=operator,
        action="mgmt.reject",
        object_type="management",
        object_id=req.id,
        data={"reason": reason},
    )
    return Decided(view=view(session, req), replayed=False)


def approve(
    session: Session,
    request_id: int,
    operator: Operator,
    *,
    security: SecurityModule,
    now: datetime | None = None,
) -> Decided:
    """Approve and issue: make the token(s) with the meter locked; audited.

    The approver asking again for a request it already approved gets the
    tokens issued then (``replayed``): no second token set, no second entry.
    """
    now = now or datetime.now(UTC)
    req, again = _to_decide(
        session, request_id, operator, (RequestStatus.ISSUED, RequestStatus.APPROVED)
    )
    if again:
        return Decided(view=view(session, req), replayed=True)
    meter = MeterRepository(session).lock(req.meter_id)
    kind = ManagementKind(req.kind)
    issued: list[tuple[str, IssuedToken]] = []
    if kind in (ManagementKind.LOAD_TARIFF, ManagementKind.FIELD_SETTINGS) and (
        meter.needs_key_change
    ):
        # signed under today's key, the command would stop verifying the moment
        # the customer enters the key change tokens of the next sale
        raise Conflict("the meter has a key change pending; issue that first")
    if kind is ManagementKind.FIELD_SETTINGS:
        req.ir_command = ir_settings.command(session, meter, req.params, security)
    elif kind is ManagementKind.LOAD_TARIFF:
        req.ir_command = ir_tariff.command(session, meter, req.params, security)
        left = ir_tariff.record(session, meter, req.params)
        if left is not None:
            audit.record(
                session,
                actor=operator,
                action="meter.tariff",
                object_type="meter",
                object_id=meter.id,
                data={"from": left, "to": meter.tariff_id, "request": req.id},
                at=now,
            )
    elif kind is ManagementKind.CANCEL_SALE:
        issued = sale_cancel.take_back(session, req, meter, operator, security=security, now=now)
    elif kind is ManagementKind.KEY_CHANGE:
        # checked again now: the keys or the meter may have moved since it was asked
        issue.plan_key_change(
            session,
            meter,
            security,
            now,
            group_id=req.params.get("supply_group_id"),
            ti=req.params.get("ti"),
            base_date=req.params.get("base_date"),
        )
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
        key_rules.check_management_key_type(config.key_type, meter.pan)
        tid = issue.next_tid(meter, now)
        rnd = nibble()
        tok: Token
        if kind is ManagementKind.CLEAR_CREDIT:
            tok = ClearCredit(tid=tid, rnd=rnd, register=req.params["register"])
        elif kind is ManagementKind.CLEAR_TAMPER:
            tok = ClearTamper(tid=tid, rnd=rnd)
        else:
            tok = TariffRate(tid=tid, rnd=rnd, rate=req.params["rate"])
            # the meter runs this flat rate from the token's minute: the record follows
            meter.loaded_tariff_version_id, meter.loaded_tariff_rate = None, tok.rate
            meter.loaded_tariff_from = datetime_for_tid(tid, BaseDate(meter.base_date))
        issued = [(TokenKind.MGMT.value, management_token(config, tok))]
        meter.last_tid = tid
    issue.store_tokens(session, issued, meter_id=meter.id, request_id=req.id, now=now)
    done = issued or req.ir_command is not None
    req.status = RequestStatus.ISSUED.value if done else RequestStatus.APPROVED.value
    req.decided_by_id, req.decided_at = operator.id, now
    audit.record(
        session,
        actor=operator,
        action="mgmt.approve",
        object_type="management",
        object_id=req.id,
        data={"meter": meter.pan, "kind": kind.value, "tokens": len(issued)},
        at=now,
    )
    session.flush()
    return Decided(view=view(session, req), replayed=False)
