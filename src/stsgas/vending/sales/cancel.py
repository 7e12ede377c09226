"""Cancelling a sale: exactly once, and never taking more off the meter than the sale gave.

Two ways, chosen by whether the customer already entered the sale's token:

* **Void** (token not entered): one supervisor; the money moves at once.
* **Take back** (token entered): a four-eyes management request
  (``cancel_sale``). By amount, one negative currency token takes exactly the
  sale's credit off the meter. By volume, the meter cannot subtract, so the
  asker types the credit the meter shows now; the tokens are a clear-credit
  and a credit for what is left once the sale's gas is gone (refused when the
  meter shows less than the sale gave). The tokens are made, and the money
  moves, only when a second person approves.

Either way the money moves once: the sale goes from completed to cancelled in
one conditional UPDATE, and only the caller that made that change reverses
the journal, refunds whoever paid (:func:`.payer.refund`: the float, the
wallet; mobile money goes into the customer's wallet, or without one is owed to
the payer and listed by reconciliation) and puts recovered debt back. Both
answers say where the money went (``refunded_to``): the void's at once, the
take-back's on its request once approved.

What a cancellation would do (the plan the console shows before anyone
confirms, and the refusals it earns) is worked out in :mod:`.cancel_plan`;
this module does it: the preview, the void, the ask and the approved take-back.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from stsgas.sts import (
    ClearCredit,
    CreditToken,
    CurrencyCreditToken,
    IssuedToken,
    Token,
    decode_currency,
    encode_currency,
    management_token,
)
from stsgas.vending.audit import service as audit
from stsgas.vending.errors import (
    CancelPending,
    Conflict,
    Forbidden,
    MeterChanged,
    SaleCancelled,
)
from stsgas.vending.keys.security import SecurityModule
from stsgas.vending.kit.entropy import nibble
from stsgas.vending.kit.volume import LITRES_PER_UNIT
from stsgas.vending.ledger import service as ledger
from stsgas.vending.management import requests
from stsgas.vending.meters.repository import MeterRepository
from stsgas.vending.models import (
    ManagementKind,
    ManagementRequest,
    Meter,
    MeterMode,
    Operator,
    PaidFrom,
    Sale,
    SaleStatus,
    TokenKind,
)
from stsgas.vending.operators.permissions import Permission, allowed
from stsgas.vending.operators.repository import VendorRepository
from stsgas.vending.payments import reconcile
from stsgas.vending.policies import repository as policies
from stsgas.vending.sales import issue, payer
from stsgas.vending.sales import service as sales_service
from stsgas.vending.sales.aftercare import get_visible
from stsgas.vending.sales.cancel_plan import REGISTER_CURRENCY, REGISTER_UNITS, plan
from stsgas.vending.sales.receipt_money import money
from stsgas.vending.sales.repository import SaleRepository


def preview(
    session: Session,
    sale_id: int,
    operator: Operator,
    *,
    token_used: bool,
    meter_credit: str | None,
) -> dict[str, Any]:
    """The plan of a cancellation, nothing written: what the console shows first."""
    sale = get_visible(session, sale_id, operator)
    meter = session.get(Meter, sale.meter_id)
    assert meter is not None
    return plan(sale, meter, token_used=token_used, meter_credit=meter_credit).to_json()


def void(
    session: Session,
    sale_id: int,
    operator: Operator,
    *,
    reason: str,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Cancel a sale whose token was never entered: the money moves now, once."""
    now = now or datetime.now(UTC)
    found = get_visible(session, sale_id, operator)
    MeterRepository(session).lock(found.meter_id)  # after any sale or take-back in flight
    repo = SaleRepository(session)
    sale = repo.by_id(found.id)
    assert sale is not None
    if repo.pending_cancel(sale.id) is not None:
        raise CancelPending(
            f"a request to take sale {sale.id} back waits for approval; reject it first",
            sale_id=sale.id,
        )
    to = _reverse(session, sale, operator, now)
    audit.record(
        session,
        actor=operator,
        action="sale.cancel",
        object_type="sale",
        object_id=sale.id,
        data={"reason": reason, "token_used": False, "refunded_to": to.value},
        at=now,
    )
    session.flush()
    refunded = money(sale.amount_paid)
    answer: dict[str, Any] = {
        "sale_id": sale.id,
        "status": SaleStatus.CANCELLED.value,
        "refunded": refunded,
    }
    if sale.paid_from != PaidFrom.FLOAT.value:  # a float sale's answer says it as before
        answer["refunded_to"] = to.value
        answer["refund_note"] = payer.refund_note(to, refunded or "0.00")
    return answer


def fingerprint(sale_id: int, meter_credit: str | None, reason: str) -> str:
    """SHA-256 of what makes two asks 'the same' for one idempotency key."""
    doc = {"sale": sale_id, "meter_credit": (meter_credit or "").strip(), "reason": reason}
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


def ask(
    session: Session,
    sale_id: int,
    operator: Operator,
    *,
    reason: str,
    meter_credit: str | None,
    idempotency_key: str | None = None,
) -> tuple[ManagementRequest, bool]:
    """Record a pending take-back request (nothing issued, no money moved); with
    ``idempotency_key`` the same ask again answers the same request (``True``)."""
    fp = None if idempotency_key is None else fingerprint(sale_id, meter_credit, reason)
    done = requests.prior(session, operator.id, idempotency_key, fp)
    if done is not None:
        return done, True
    found = get_visible(session, sale_id, operator)
    meter = MeterRepository(session).lock(found.meter_id)  # one ask per sale at a time
    repo = SaleRepository(session)
    sale = repo.by_id(found.id)
    assert sale is not None
    worked = plan(sale, meter, token_used=True, meter_credit=meter_credit)
    pending = repo.pending_cancel(sale.id)
    if pending is not None:
        raise CancelPending(
            f"request {pending.id} to take sale {sale.id} back already waits for approval",
            sale_id=sale.id,
            request_id=pending.id,
        )
    params = {
        "sale_id": sale.id,
        "mode": worked.mode,
        "take": worked.take,
        "meter_credit": worked.meter_credit,
        "credit_after": worked.credit_after,
        "last_tid": worked.last_tid,
        "refund": worked.refund,
        "preview": worked.preview,
    }
    req = requests.record_pending(
        session,
        operator=operator,
        meter=meter,
        kind=ManagementKind.CANCEL_SALE.value,
        params=params,
        reason=reason,
        idempotency_key=idempotency_key,
        fingerprint=fp,
        audit_detail={"sale_id": sale.id},
        sale_id=sale.id,
    )
    return req, False


def take_back(
    session: Session,
    req: ManagementRequest,
    meter: Meter,
    approver: Operator,
    *,
    security: SecurityModule,
    now: datetime,
) -> list[tuple[str, IssuedToken]]:
    """Approve a take-back (``meter`` locked): the tokens, and the money moved once."""
    if not allowed(approver.role, Permission.SALES_CANCEL):
        raise Forbidden(f"role {approver.role!r} may not cancel sales")
    p = req.params
    if p["mode"] == MeterMode.VOLUME.value and meter.last_tid != p["last_tid"]:
        raise MeterChanged(
            "tokens went to this meter after its credit was read; reject "
            "this request and ask again with the credit it shows now"
        )
    assert req.sale_id is not None
    sale = SaleRepository(session).by_id(req.sale_id)
    assert sale is not None
    to = _reverse(session, sale, approver, now)
    # where the money went, kept on the request: its approval (and every later read
    # of it) answers ``refunded_to`` and ``refund_note`` as a void's answer does
    req.params = {
        **p,
        "refunded_to": to.value,
        "refund_note": payer.refund_note(to, str(p.get("refund") or "0.00")),
    }
    config, kcts = issue.apply_key_change(session, meter, security, now)
    if kcts:
        raise Conflict("the meter has a key change pending; sell or change its key first")
    made: list[Token] = []
    if p["mode"] == MeterMode.AMOUNT.value:
        take = -int(p["take"])
        assert decode_currency(*encode_currency(take)) == take  # a credited amount is exact
        made.append(
            CurrencyCreditToken(subclass=REGISTER_CURRENCY, tid=_tid(meter, now), amount=take)
        )
    else:
        made.append(ClearCredit(tid=_tid(meter, now), rnd=nibble(), register=REGISTER_UNITS))
        units = int(p["credit_after"]) // LITRES_PER_UNIT
        if units:
            made.append(
                CreditToken(
                    subclass=REGISTER_UNITS,
                    tid=_tid(meter, now),
                    units=units,
                    rnd=nibble(),
                )
            )
    audit.record(
        session,
        actor=approver,
        action="sale.cancel",
        object_type="sale",
        object_id=sale.id,
        data={
            "reason": req.reason,
            "token_used": True,
            "request_id": req.id,
            "asked_by": req.requested_by_id,
            "refunded_to": to.value,
        },
        at=now,
    )
    return [
        (
            TokenKind.MGMT.value if isinstance(t, ClearCredit) else TokenKind.CREDIT.value,
            management_token(config, t),
        )
        for t in made
    ]


def _tid(meter: Meter, now: datetime) -> int:
    """The meter's next free TID, taken."""
    tid = issue.next_tid(meter, now)
    meter.last_tid = tid
    return tid


def _reverse(session: Session, sale: Sale, operator: Operator, now: datetime) -> payer.RefundTo:
    """Mark the sale cancelled and move its money back (where to: :func:`payer.refund`);
    :class:`SaleCancelled` when another request got there first (nothing moves twice)."""
    repo = SaleRepository(session)
    if not repo.mark_cancelled(sale.id, operator.id, now):
        raise SaleCancelled(f"sale {sale.id} is already cancelled", sale_id=sale.id)
    ledger.post(
        session,
        ledger.reverse(sales_service.sale_lines(sale)),
        sale_id=sale.id,
        memo=f"cancel sale {sale.id}",
    )
    if sale.vendor_id is not None:
        VendorRepository(session).refund(sale.vendor_id, sale.amount_paid)
    to = payer.refund(session, sale, now)
    if to is payer.RefundTo.PAYER:  # listed by reconciliation until someone pays it back
        reconcile.owe_payer(session, sale, now)
    if sale.debt_recovered and sale.customer_id is not None:
        repo.restore_debt(sale.customer_id, sale.debt_recovered)
    policies.undo(session, sale.id, sale.customer_id, sale.response)  # credit policies
    return to
