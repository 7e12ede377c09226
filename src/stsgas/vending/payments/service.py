"""What a verified payment becomes: gas for the meter it names, or wallet credit.

The general path (any database; on PostgreSQL what :mod:`.fast` hands back).
No lock is held across the network call to the provider, which comes first
(:meth:`PaymentProvider.verify`, in the webhook); then:

1. :func:`record` stores the report (``UNIQUE(provider, txn_id)``: a callback
   delivered twice, even at the same instant, makes one row; a report the
   provider could not be asked about is stored too, for reconciliation);
2. :func:`apply` locks the payment row and, once only, moves the money: a
   reference naming a meter buys gas at once (a sale paid by mobile money,
   through the one sale pipeline); a reference naming a customer account, a
   sale the tariff refuses (below the minimum sale, no tariff, meter not
   active…), or the change a sale leaves, tops up the customer's wallet.
   The SMS to the customer is stored in the same transaction (the SMS outbox:
   the jobs package resends it when the gateway refuses) and sent after commit.

A payment the provider does not confirm (unknown id, other amount or account,
not completed) is stored as rejected and moves nothing. Nothing here commits.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stsgas.vending.errors import BadMeterNumber, RequestInProgress, RetryLater, VendingError
from stsgas.vending.keys.security import SecurityModule
from stsgas.vending.kit.money import format_money
from stsgas.vending.ledger import service as ledger
from stsgas.vending.meters import resolve
from stsgas.vending.meters.repository import MeterRepository
from stsgas.vending.models import (
    Customer,
    Meter,
    Operator,
    PaidFrom,
    Payment,
    PaymentState,
    Sale,
)
from stsgas.vending.payments.provider import Reported, Verified
from stsgas.vending.sales import ops
from stsgas.vending.sales import service as sales
from stsgas.vending.sales.receipts import Receipt
from stsgas.vending.sms import repository as sms_repo
from stsgas.vending.sms.gateway import OutboundSms
from stsgas.vending.sms.replies import credited_text
from stsgas.vending.sms.service import Inbound
from stsgas.vending.wallet import service as wallet

__all__ = [
    "Outcome",
    "Sold",
    "apply",
    "change_credit",
    "mismatch",
    "record",
    "sms_body",
    "sms_phone",
    "sms_reference",
    "sold",
]

log = logging.getLogger("stsgas.payments")

#: a customer account reference: the customer number, optionally after a C
_CUSTOMER_REF = re.compile(r"^[Cc]?([0-9]{1,10})$")


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """What a callback did."""

    payment_id: int
    state: str
    sale_id: int | None
    detail: str
    #: True when an earlier callback of this payment had already applied it
    duplicate: bool = False
    #: the SMS to send after commit (stored unsent in the outbox)
    sms: OutboundSms | None = None


def sms_reference(provider: str, txn_id: str) -> str:
    """The outbox key of a payment's SMS."""
    return f"{provider}-{txn_id}"[:64]


def record(session: Session, provider: str, reported: Reported, now: datetime) -> Payment:
    """The payment row of the report: new (state ``received``) or the one stored before."""
    found = session.execute(
        select(Payment).where(Payment.provider == provider, Payment.txn_id == reported.txn_id)
    ).scalar_one_or_none()
    if found is not None:
        return found
    payment = Payment(
        provider=provider,
        txn_id=reported.txn_id,
        amount=reported.amount,
        reference=reported.reference,
        phone=reported.phone,
        state=PaymentState.RECEIVED.value,
        detail="",
        received_at=now,
    )
    session.add(payment)
    session.flush()  # a concurrent twin fails here (unique key); the retry finds this row
    return payment


def mismatch(amount: int, reference: str, verified: Verified | None) -> str | None:
    """Why the provider's answer does not confirm the stored report, or None."""
    if verified is None:
        return "the provider knows no such transaction"
    if not verified.completed:
        return "the provider says the transaction is not completed"
    if verified.amount != amount:
        return f"the provider says {verified.amount}, the callback said {amount}"
    if verified.reference != reference:
        return "the provider names another account reference"
    return None


def _meter_of(session: Session, reference: str) -> Meter | None:
    try:
        return resolve.find(session, reference)
    except BadMeterNumber:
        return None


def _customer_of(session: Session, reference: str) -> Customer | None:
    match = _CUSTOMER_REF.fullmatch(reference.strip())
    return None if match is None else session.get(Customer, int(match[1]))


def apply(
    session: Session,
    payment_id: int,
    verified: Verified | None,
    *,
    operator_name: str,
    security: SecurityModule,
    now: datetime,
    decimals: int,
) -> Outcome:
    """Move the money of a verified payment, once (see the module docstring)."""
    payment = session.execute(
        select(Payment).where(Payment.id == payment_id).with_for_update()
    ).scalar_one()
    if payment.state != PaymentState.RECEIVED.value or payment.verified_at is not None:
        return _outcome(payment, duplicate=True)
    why = mismatch(payment.amount, payment.reference, verified)
    if why is not None:
        payment.state = PaymentState.REJECTED.value
        payment.detail = why[:200]
        log.warning(
            "payment not confirmed by the provider: nothing moved",
            extra={"provider": payment.provider, "txn_id": payment.txn_id, "why": why},
        )
        return _outcome(payment)
    payment.verified_at = now
    meter = _meter_of(session, payment.reference)
    if meter is not None:
        return _buy(session, payment, meter, operator_name, security, now, decimals)
    customer = _customer_of(session, payment.reference)
    if customer is not None:
        text = f"We received {format_money(payment.amount, decimals)}"
        return _top_up(
            session, payment, customer, payment.amount, "paid into your wallet", text, now, decimals
        )
    payment.detail = "the reference names no meter and no customer: reconcile by hand"
    log.warning(
        "payment names no meter or customer",
        extra={"provider": payment.provider, "txn_id": payment.txn_id},
    )
    return _outcome(payment)


def _buy(
    session: Session,
    payment: Payment,
    meter: Meter,
    operator_name: str,
    security: SecurityModule,
    now: datetime,
    decimals: int,
) -> Outcome:
    owner = MeterRepository(session).customer_of(meter.id)
    seller = session.execute(
        select(Operator).where(Operator.username == operator_name, Operator.is_active.is_(True))
    ).scalar_one_or_none()
    req = sales.SaleRequest(
        meter_number=meter.pan,
        paid=payment.amount,
        channel="api",
        idempotency_key=f"{payment.provider}-{payment.txn_id}",
        paid_from=PaidFrom.MOBILE.value,
    )
    refusal = "mobile-money sales are not set up" if seller is None else ""
    done = None
    if seller is not None:
        try:
            with session.begin_nested():
                done = sales.sell(session, req, operator=seller, security=security, now=now)
        except (RetryLater, RequestInProgress):
            raise
        except VendingError as exc:
            refusal = exc.detail.rstrip(".")
    if done is None:
        if owner is None:
            payment.customer_id = None
            payment.detail = f"not sold ({refusal}) and the meter has no customer"[:200]
            return _outcome(payment)
        paid = format_money(payment.amount, decimals)
        text = f"We received {paid} for meter {meter.pan} but could not sell gas ({refusal})"
        return _top_up(
            session, payment, owner, payment.amount, f"not sold: {refusal}", text, now, decimals
        )
    sale_id = done.receipt.sale_id
    sale = session.get(Sale, sale_id)
    assert sale is not None
    payment.state = PaymentState.SOLD.value
    payment.sale_id = sale_id
    payment.customer_id = owner.id if owner is not None else None
    said = sold(
        done.receipt,
        amount=payment.amount,
        paid=sale.amount_paid,
        pan=meter.pan,
        customer_id=payment.customer_id,
        decimals=decimals,
    )
    if owner is not None and said.to_wallet:
        wallet.credit(session, change_credit(payment.id, sale_id, owner.id, said.to_wallet, now))
    payment.detail = said.detail
    return _outcome(payment, sms=_store_sms(session, payment, owner, said.text, now))


def change_credit(
    payment_id: int, sale_id: int, customer_id: int, change: int, now: datetime
) -> ops.CreditWallet:
    """The request that puts a payment's change (money beyond the last 0.1 m³) into
    the customer's wallet: the thread's :func:`apply` and the event loop's
    (``payments.fast``, folded into its write) ask for the same one."""
    return ops.CreditWallet(
        customer_id=customer_id,
        amount=change,
        source=ledger.MOBILE_CLEARING,
        memo=f"change of payment {payment_id} (sale {sale_id})",
        now=now,
    )


@dataclass(frozen=True, slots=True)
class Sold:
    """What a payment that bought gas says and moves: the payment's detail, its SMS and
    the change (money beyond the last 0.1 m³) put into the customer's wallet, 0 when
    none is (no change, or the meter has no customer)."""

    detail: str
    text: str
    to_wallet: int


def sold(
    receipt: Receipt, *, amount: int, paid: int, pan: str, customer_id: int | None, decimals: int
) -> Sold:
    """The words and the change of a payment of ``amount`` whose sale took ``paid``: the
    thread's :func:`apply` and the event loop's (``payments.fast``) both ask this."""
    change = amount - paid
    to_wallet = change if change > 0 and customer_id is not None else 0
    tokens = " ".join(t.digits for t in receipt.tokens)
    text = (
        f"Paid {format_money(paid, decimals)} for meter {pan}: "
        f"{credited_text(receipt)}. Token {tokens}. Receipt {receipt.sale_id}"
    )
    if to_wallet:
        text += f". Change {format_money(change, decimals)} to your wallet"
    return Sold(
        detail=f"sold, change {change}" if change else "sold", text=text, to_wallet=to_wallet
    )


def sms_phone(customer_phone: str | None, payer_phone: str) -> str | None:
    """Where a payment's SMS goes: the customer's phone, else the payer's; None when
    there is none (providers mask the payer's number with stars)."""
    phone = customer_phone or payer_phone
    return None if not phone or "*" in phone else phone


def sms_body(text: str) -> dict[str, Any]:
    """The outbox record's body of a payment's SMS, not yet sent."""
    return {"reply": text, "sent": False, "status": "replied"}


def _top_up(
    session: Session,
    payment: Payment,
    customer: Customer,
    amount: int,
    detail: str,
    text: str,
    now: datetime,
    decimals: int,
) -> Outcome:
    after = wallet.top_up(
        session,
        customer.id,
        amount,
        source=ledger.MOBILE_CLEARING,
        memo=f"wallet top-up customer {customer.id} payment {payment.id}",
        now=now,
    )
    payment.state = PaymentState.TOPPED_UP.value
    payment.customer_id = customer.id
    payment.detail = detail[:200]
    text += f"; your wallet now holds {format_money(after, decimals)}"
    return _outcome(payment, sms=_store_sms(session, payment, customer, text, now))


def _store_sms(
    session: Session, payment: Payment, customer: Customer | None, text: str, now: datetime
) -> OutboundSms | None:
    """Keep the SMS in the outbox (the SMS channel's records: a refused send is resent
    by the jobs package's resend job); None without a phone to send to."""
    phone = sms_phone(customer.phone if customer is not None else None, payment.phone)
    if phone is None:
        return None
    ref = sms_reference(payment.provider, payment.txn_id)
    inbound = Inbound(phone=phone, text="", message_id=ref)
    sms_repo.add_record(
        session,
        scope=inbound.scope,
        key=ref,
        fingerprint=hashlib.sha256(text.encode()).hexdigest(),
        now=now,
        done=True,
        body=sms_body(text),
    )
    return OutboundSms(to=phone, text=text, reference=ref)


def _outcome(
    payment: Payment, *, duplicate: bool = False, sms: OutboundSms | None = None
) -> Outcome:
    return Outcome(
        payment_id=payment.id,
        state=payment.state,
        sale_id=payment.sale_id,
        detail=payment.detail,
        duplicate=duplicate,
        sms=sms,
    )
