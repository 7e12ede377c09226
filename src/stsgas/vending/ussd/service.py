"""The USSD channel's rules on the database: who is calling, within which limits, what
they may see.

Same rules as SMS self-service (:mod:`stsgas.vending.sms.service`):

* the phone identifies the customer: meters linked to customers whose phone
  number has the caller's digits (``+255…`` and ``255…`` match alike);
* budgets: each session counts once against the phone's budget (``ussd:<phone>``
  records, key = the session id, so a gateway's retry of a step counts nothing
  more); a purchase counts against the meter's and the customer's budgets under
  the very scopes SMS uses (``sms-m:<PAN>``, ``sms-c:<id>``), so the two channels
  share one budget per meter and per customer;
* the session record keeps the last answer, for the console's SMS log; phone
  numbers are masked wherever they are shown or logged;
* a purchase is a sale on channel ``ussd`` (before migration 0017 it was
  recorded on ``sms``: :func:`sold_as_sms` finds such a session's sale).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from stsgas.vending import transaction
from stsgas.vending.customers.service import mask_phone
from stsgas.vending.kit.money import to_major
from stsgas.vending.models import (
    Channel,
    Customer,
    CustomerMeter,
    IdempotencyRecord,
    IdempotencyState,
    Meter,
    Operator,
    Sale,
    SaleStatus,
    Token,
    TokenKind,
)
from stsgas.vending.sales.receipts import Receipt
from stsgas.vending.sms import repository as sms_repo
from stsgas.vending.sms.replies import credited_text
from stsgas.vending.sms.service import Limits, digits_of
from stsgas.vending.ussd.screens import LastSale
from stsgas.vending.wallet import repository as wallets

__all__ = [
    "Caller",
    "admit_purchase",
    "admit_session",
    "caller",
    "last_sale",
    "last_tokens",
    "note",
    "session_scope",
    "sold_as_sms",
]

log = logging.getLogger("stsgas.vending.ussd")
#: how many tokens menu 3 shows per meter
LAST_TOKENS = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class Caller:
    """The customers a phone number belongs to, and their meters (PANs, oldest link first)."""

    customer_ids: tuple[int, ...]
    meters: tuple[str, ...]


def session_scope(phone: str) -> str:
    """The record scope of a phone's USSD sessions."""
    return f"ussd:{digits_of(phone)}"[:32]


def _phone_digits() -> ColumnElement[str]:
    """``customers.phone`` without the separators its pattern allows (``+ ()-``)."""
    col: ColumnElement[str] = func.replace(Customer.phone, "+", "")
    for ch in (" ", "(", ")", "-"):
        col = func.replace(col, ch, "")
    return col


def caller(sm: sessionmaker[Session], phone: str) -> Caller | None:
    """Who is calling: None when no customer has this phone number."""
    digits = digits_of(phone)
    if not digits:
        return None
    with sm() as s:
        ids = tuple(
            s.execute(
                select(Customer.id).where(_phone_digits() == digits).order_by(Customer.id)
            ).scalars()
        )
        if not ids:
            return None
        meters = tuple(
            s.execute(
                select(Meter.pan)
                .join(CustomerMeter, CustomerMeter.meter_id == Meter.id)
                .where(CustomerMeter.customer_id.in_(ids), CustomerMeter.active == 1)
                .order_by(CustomerMeter.linked_at, CustomerMeter.id)
            ).scalars()
        )
    return Caller(customer_ids=ids, meters=meters)


def _fingerprint(phone: str, session_id: str) -> str:
    return hashlib.sha256(f"{digits_of(phone)}\n{session_id}".encode()).hexdigest()


def admit_session(
    sm: sessionmaker[Session], *, phone: str, session_id: str, limits: Limits, now: datetime
) -> bool:
    """Record the session on its first request, within the phone's budget; False when
    the phone is over its budget (that session stays refused on every step)."""
    scope = session_scope(phone)

    def admit(s: Session) -> bool:
        seen = sms_repo.get_record(s, scope, session_id)
        if seen is not None:
            return (seen.response_body or {}).get("status") != "rate_limited"
        used = sms_repo.count_since(s, scope, limits.per_phone.window_start(now))
        over = not limits.per_phone.allows(used)
        sms_repo.add_record(
            s,
            scope=scope,
            key=session_id,
            fingerprint=_fingerprint(phone, session_id),
            now=now,
            done=over,
            body={"status": "rate_limited", "reply": None, "sent": True} if over else None,
        )
        return not over

    try:
        ok = transaction.run_in(sm, admit)
    except IntegrityError:  # the same first step twice at once: the other one recorded it
        return True
    if not ok:
        log.info("USSD session over the phone's budget", extra={"phone": mask_phone(phone)})
    return ok


def admit_purchase(
    sm: sessionmaker[Session],
    *,
    session_id: str,
    meter: str,
    customer_id: int | None,
    limits: Limits,
    now: datetime,
) -> bool:
    """Count the session's purchase against the meter's and the customer's budgets
    (once per session: a retried confirm is admitted again); False when over."""
    key = f"ussd-{session_id}"
    budgets = [(f"sms-m:{meter}", limits.per_meter)]
    if customer_id is not None:
        budgets.append((f"sms-c:{customer_id}", limits.per_customer))

    def admit(s: Session) -> bool:
        if all(sms_repo.get_record(s, scope, key) is not None for scope, _ in budgets):
            return True
        if any(
            not limit.allows(sms_repo.count_since(s, scope, limit.window_start(now)))
            for scope, limit in budgets
        ):
            return False
        for scope, _ in budgets:
            if sms_repo.get_record(s, scope, key) is None:
                sms_repo.add_record(
                    s, scope=scope, key=key, fingerprint="u" * 64, now=now, done=True, body=None
                )
        return True

    try:
        return transaction.run_in(sm, admit)
    except IntegrityError:  # a concurrent retry of the same confirm recorded it
        return True


def owner_of(sm: sessionmaker[Session], meter: str) -> int | None:
    """The id of the customer the meter (a PAN) is linked to now."""
    with sm() as s:
        found: int | None = s.execute(
            select(CustomerMeter.customer_id)
            .join(Meter, Meter.id == CustomerMeter.meter_id)
            .where(Meter.pan == meter, CustomerMeter.active == 1)
        ).scalar_one_or_none()
    return found


def sold_as_sms(sm: sessionmaker[Session], *, operator: str, key: str) -> Receipt | None:
    """The receipt of a purchase a session made before USSD sales had their own channel
    (migration 0017): it is recorded on ``sms`` under the same key, so a gateway
    repeating the confirm step across the upgrade gets that sale, not a second one."""
    with sm() as s:
        body = s.execute(
            select(Sale.response)
            .join(Operator, Operator.id == Sale.operator_id)
            .where(
                Operator.username == operator,
                Sale.channel == Channel.SMS.value,
                Sale.idempotency_key == key,
            )
        ).scalar_one_or_none()
    return None if body is None else Receipt.from_json(body)


def last_sale(sm: sessionmaker[Session], meters: Sequence[str]) -> LastSale | None:
    """The latest completed sale to any of ``meters``."""
    if not meters:
        return None
    with sm() as s:
        row = s.execute(
            select(Meter.pan, Sale.response)
            .join(Meter, Meter.id == Sale.meter_id)
            .where(Meter.pan.in_(meters), Sale.status == SaleStatus.COMPLETED.value)
            .order_by(Sale.created_at.desc(), Sale.id.desc())
            .limit(1)
        ).first()
    if row is None or row[1] is None:
        return None
    receipt = Receipt.from_json(row[1])
    return LastSale(
        meter=row[0], at=receipt.time, paid=receipt.amount_paid, credited=credited_text(receipt)
    )


def last_tokens(sm: sessionmaker[Session], meter: str) -> list[tuple[datetime, str]]:
    """The meter's newest credit tokens of sales not cancelled (when, digits)."""
    with sm() as s:
        rows = s.execute(
            select(Token.created_at, Token.digits)
            .join(Sale, Sale.id == Token.sale_id)
            .join(Meter, Meter.id == Token.meter_id)
            .where(
                Meter.pan == meter,
                Token.kind == TokenKind.CREDIT.value,
                Sale.status == SaleStatus.COMPLETED.value,
            )
            .order_by(Token.id.desc())
            .limit(LAST_TOKENS)
        ).all()
    return [(at, digits) for at, digits in rows]


def wallet_balance(
    sm: sessionmaker[Session], customer_ids: Sequence[int], decimals: int
) -> Decimal | None:
    """What the caller's wallet holds (major units; all of them when several customers
    share the phone), or None when none of them has a wallet."""
    with sm() as s:
        found = [wallets.balance(s, cid) for cid in customer_ids]
    held = [b for b in found if b is not None]
    return to_major(sum(held), decimals) if held else None


def note(
    sm: sessionmaker[Session],
    *,
    phone: str,
    session_id: str,
    status: str,
    reply: str,
    steps: int,
    now: datetime,
) -> None:
    """Keep the session's latest answer on its record (the console's log shows it)."""

    def store(s: Session) -> None:
        rec = sms_repo.get_record(s, session_scope(phone), session_id)
        if rec is None:
            return
        body: dict[str, Any] = {"status": status, "reply": reply, "sent": True, "steps": steps}
        rec.response_body = body
        rec.response_status = 200
        if status != "open":
            rec.state = IdempotencyState.DONE.value
        rec.updated_at = now

    transaction.run_in(sm, store)


def recent_sessions(session: Session, *, limit: int) -> list[IdempotencyRecord]:
    """Newest first: the USSD sessions' records, for the SMS log page."""
    stmt = (
        select(IdempotencyRecord)
        .where(IdempotencyRecord.scope.like("ussd:%"))
        .order_by(IdempotencyRecord.id.desc())
        .limit(limit)
    )
    return list(session.execute(stmt).scalars())
