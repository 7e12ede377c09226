"""Sending one sale's token SMS, exactly once, through the SMS channel's one outbox.

The outbox is the SMS channel's store of replies (``idempotency_records``, scope
``sms:<phone digits>``): the token SMS of sale *N* is the record keyed
``stsgas-sale-<N>``. Its unique key is what makes the send happen once, however
often :func:`deliver` is called for the sale (a replayed request, two workers):
only the call that writes the record sends. A refused send stays in the outbox
unsent, and the SMS gateway's retry hook (``jobs.wiring.RetryingGateway``)
queues the same resend job as for a refused SMS reply, which sends it later.
The console's SMS log lists these records beside the inbound messages.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Final

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session, sessionmaker

from stsgas.vending import transaction
from stsgas.vending.customers.service import mask_phone
from stsgas.vending.delivery.text import token_sms
from stsgas.vending.models import (
    Channel,
    Customer,
    IdempotencyRecord,
    PaidFrom,
    Sale,
    SaleStatus,
)
from stsgas.vending.sales.receipts import Receipt
from stsgas.vending.sms import repository as sms_repo
from stsgas.vending.sms import service as sms
from stsgas.vending.sms.gateway import OutboundSms, SmsGateway, SmsGatewayError

__all__ = ["STATUS", "answered_by_sms", "deliver", "missed", "reference_of"]

log = logging.getLogger("stsgas.vending.delivery")
#: the outbox record's status, as the SMS log shows it
STATUS: Final = "token_delivery"
#: outbox keys and receipts read per statement by :func:`missed`
_BATCH: Final = 500


def reference_of(sale_id: int) -> str:
    """The outbox key (and the gateway's reference) of a sale's token SMS."""
    return f"stsgas-sale-{sale_id}"


def answered_by_sms(channel: str, key: str | None, paid_from: str | None) -> bool:
    """Whether the sale's token already goes to the customer's phone by SMS: the reply to
    an SMS ``BUY`` (key ``sms-<message id>``, sent to the registered phone) and the
    confirmation of a mobile-money payment both carry it, so a second SMS would only
    cost money. (A USSD screen is gone once read: a USSD sale is delivered.)"""
    if channel == Channel.SMS.value and (key or "").startswith("sms-"):
        return True
    return paid_from == PaidFrom.MOBILE.value


def _scope(phone: str) -> str:
    """The outbox scope of a phone's messages."""
    return sms.Inbound(phone=phone, text="", message_id="").scope


def _recipient(sm: sessionmaker[Session], sale_id: int) -> str | None:
    """The phone of the sale's customer when they opted in (and no other SMS of this
    sale carries the token), else None."""
    with sm() as s:
        row = s.execute(
            select(
                Customer.phone,
                Customer.sms_tokens,
                Sale.channel,
                Sale.idempotency_key,
                Sale.paid_from,
            )
            .join(Sale, Sale.customer_id == Customer.id)
            .where(Sale.id == sale_id)
        ).first()
    if row is None or not row.sms_tokens or not sms.digits_of(row.phone):
        return None
    if answered_by_sms(row.channel, row.idempotency_key, row.paid_from):
        return None
    return str(row.phone)


def _enqueue(
    sm: sessionmaker[Session], *, phone: str, reference: str, text: str, now: datetime
) -> bool:
    """Write the outbox record; False when the sale's SMS is there already."""
    scope = sms.Inbound(phone=phone, text="", message_id=reference).scope

    def write(s: Session) -> bool:
        if sms_repo.get_record(s, scope, reference) is not None:
            return False
        body: dict[str, Any] = {"reply": text, "sent": False, "status": STATUS}
        sms_repo.add_record(
            s,
            scope=scope,
            key=reference,
            fingerprint=sms_repo.OUTBOUND_FINGERPRINT,
            now=now,
            done=True,
            body=body,
        )
        return True

    return transaction.run_in(sm, write)


def deliver(sm: sessionmaker[Session], gateway: SmsGateway, sale: Receipt, *, now: datetime) -> str:
    """Send the sale's token SMS if its customer opted in and it was not sent before.

    Answers what happened: "opted_out" (or no customer/phone, or the token went out
    by SMS already with the sale's own answer: :func:`answered_by_sms`), "already" (the
    outbox has it), "sent", or "refused" (kept unsent; the resend job retries).
    Never raises for a gateway failure: the sale stands whatever happens here.
    """
    if not sale.tokens:
        return "opted_out"  # a cancelled sale's receipt: its token is void
    phone = _recipient(sm, sale.sale_id)
    if phone is None:
        return "opted_out"
    reference = reference_of(sale.sale_id)
    text = token_sms(sale)
    if not _enqueue(sm, phone=phone, reference=reference, text=text, now=now):
        return "already"
    try:
        gateway.send(OutboundSms(to=phone, text=text, reference=reference))
    except SmsGatewayError as exc:
        log.warning(
            "token SMS refused by the gateway; kept for a retry",
            extra={"sale_id": sale.sale_id, "phone": mask_phone(phone), "error": str(exc)},
        )
        return "refused"
    sms.mark_sent(sm, sms.Inbound(phone=phone, text="", message_id=reference))
    log.info("token SMS sent", extra={"sale_id": sale.sale_id, "phone": mask_phone(phone)})
    return "sent"


def missed(sm: sessionmaker[Session], *, since: datetime) -> list[Receipt]:
    """Receipts of sales since ``since`` to opted-in customers whose token SMS is not in
    the outbox: committed while a server stopped before handing them over (a crash
    between a sale's commit and its outbox record). :func:`deliver` them; one that is
    in the outbox meanwhile is not sent twice.

    Asked every few minutes over a day of sales (the sweep job), so it reads no
    receipt until it knows the sale is missing, and looks the outbox up in batches."""
    with sm() as s:
        rows = s.execute(
            select(Sale.id, Sale.channel, Sale.idempotency_key, Sale.paid_from, Customer.phone)
            .join(Customer, Customer.id == Sale.customer_id)
            .where(
                Customer.sms_tokens.is_(True),
                Sale.created_at >= since,
                Sale.status == SaleStatus.COMPLETED.value,
            )
            .order_by(Sale.id)
        ).all()
        wanted = {
            (_scope(row.phone), reference_of(row.id)): row.id
            for row in rows
            if sms.digits_of(row.phone)
            and not answered_by_sms(row.channel, row.idempotency_key, row.paid_from)
        }
        pairs = list(wanted)
        for at in range(0, len(pairs), _BATCH):
            batch = pairs[at : at + _BATCH]
            found = s.execute(
                select(IdempotencyRecord.scope, IdempotencyRecord.key).where(
                    tuple_(IdempotencyRecord.scope, IdempotencyRecord.key).in_(batch)
                )
            ).all()
            for scope, key in found:
                wanted.pop((scope, key), None)
        ids = sorted(wanted.values())
        receipts: list[Receipt] = []
        for at in range(0, len(ids), _BATCH):
            receipts.extend(
                Receipt.from_json(response)
                for response in s.execute(
                    select(Sale.response)
                    .where(Sale.id.in_(ids[at : at + _BATCH]), Sale.response.is_not(None))
                    .order_by(Sale.id)
                ).scalars()
            )
    return receipts
