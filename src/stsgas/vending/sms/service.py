"""The SMS self-service rules: who may do what, once, within limits.

Flow of one inbound message (each step its own short transaction, so no
database lock is held while a sale runs or the gateway is called):

1. ``admit``: a message id already seen from this phone answers its stored
   reply (no second sale, no second SMS); an id still being handled answers
   "in progress". Otherwise the per-phone and per-meter budgets are checked
   and the message is recorded as in progress.
2. The command runs (the endpoint calls the sales API for ``BUY``, with
   ``Idempotency-Key: sms-<message id>``, so even a crash between steps
   never sells twice).
3. ``finish`` stores the reply; the gateway sends it; ``mark_sent`` notes it.

Who may buy: only the phone number registered on the customer the meter is
linked to (digits compared, so ``+255…`` and ``255…`` match). ``BAL`` has the
same rule, because the reply shows the last token.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from stsgas.vending import transaction
from stsgas.vending.kit.money import currency_decimals
from stsgas.vending.meters import resolve
from stsgas.vending.meters.repository import MeterRepository
from stsgas.vending.models import IdempotencyState
from stsgas.vending.sms import repository as repo
from stsgas.vending.sms.commands import Balance, Buy, Command, parse_command
from stsgas.vending.sms.ratelimit import RateLimit
from stsgas.vending.sms.replies import LastPurchase, balance_reply, credited_text

__all__ = [
    "Admitted",
    "Inbound",
    "Limits",
    "Settled",
    "admit",
    "balance_text",
    "digits_of",
    "finish",
    "forget",
    "mark_sent",
    "may_use_meter",
    "window",
]


def digits_of(phone: str) -> str:
    """A phone number reduced to its digits, the form numbers are compared in."""
    return "".join(ch for ch in phone if "0" <= ch <= "9")


@dataclass(frozen=True, slots=True, kw_only=True)
class Inbound:
    """One message from the gateway."""

    phone: str
    text: str
    message_id: str

    @property
    def scope(self) -> str:
        """The record scope of this phone number."""
        return f"sms:{digits_of(self.phone)}"[:32]

    @property
    def fingerprint(self) -> str:
        """What a duplicate of this message id must also carry."""
        return hashlib.sha256(f"{digits_of(self.phone)}\n{self.text}".encode()).hexdigest()


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """The per-phone and per-meter budgets."""

    per_phone: RateLimit
    per_meter: RateLimit
    per_customer: RateLimit


@dataclass(frozen=True, slots=True, kw_only=True)
class Settled:
    """The message was answered before (or is being answered, or is over a limit)."""

    status: str  #: "duplicate", "in_progress", "rate_limited", "mismatch"
    reply: str | None
    sent: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Admitted:
    """The message is recorded as in progress; run ``command``."""

    command: Command
    scopes: list[str]


def _meter_scope(command: Command) -> str | None:
    """The meter's budget, keyed by its PAN: a DRN, a PAN, spaced or dashed, all count
    for one meter."""
    if isinstance(command, Balance | Buy):
        return f"sms-m:{resolve.normalise(command.meter)}"
    return None


def admit(
    sm: sessionmaker[Session], msg: Inbound, limits: Limits, now: datetime
) -> Settled | Admitted:
    """Step 1: dedupe, rate-limit and record the message."""
    command = parse_command(msg.text, decimals=currency_decimals.get())
    return transaction.run_in(sm, lambda s: _admit(s, msg, command, limits, now))


def _admit(
    s: Session, msg: Inbound, command: Command, limits: Limits, now: datetime
) -> Settled | Admitted:
    """:func:`admit` inside its transaction."""
    meter_scope = _meter_scope(command)
    seen = repo.get_record(s, msg.scope, msg.message_id)
    if seen is not None:
        return _replay(seen.fingerprint == msg.fingerprint, seen.state, seen.response_body)
    budgets = [(msg.scope, limits.per_phone)]
    if meter_scope:
        budgets.append((meter_scope, limits.per_meter))
        assert isinstance(command, Balance | Buy)
        found = resolve.find(s, command.meter)
        owner = None if found is None else MeterRepository(s).customer_of(found.id)
        if owner is not None:
            budgets.append((f"sms-c:{owner.id}", limits.per_customer))
    over = any(
        not limit.allows(repo.count_since(s, scope, limit.window_start(now)))
        for scope, limit in budgets
    )
    body: dict[str, Any] | None = (
        {"reply": None, "sent": False, "status": "rate_limited"} if over else None
    )
    scopes = [scope for scope, _ in budgets]
    try:
        for scope in scopes:
            repo.add_record(
                s,
                scope=scope,
                key=msg.message_id,
                fingerprint=msg.fingerprint,
                now=now,
                done=over,
                body=body,
            )
    except IntegrityError:
        s.rollback()
        return Settled(status="in_progress", reply=None, sent=False)
    if over:
        return Settled(status="rate_limited", reply=None, sent=False)
    return Admitted(command=command, scopes=scopes)


def _replay(same: bool, state: str, body: dict[str, Any] | None) -> Settled:
    if not same:
        return Settled(status="mismatch", reply=None, sent=False)
    if state != IdempotencyState.DONE.value or body is None:
        return Settled(status="in_progress", reply=None, sent=False)
    status = "rate_limited" if body.get("status") == "rate_limited" else "duplicate"
    return Settled(status=status, reply=body.get("reply"), sent=bool(body.get("sent")))


def may_use_meter(sm: sessionmaker[Session], phone: str, meter: str) -> tuple[bool, str]:
    """Whether ``phone`` is registered on the meter's customer, and why not."""
    with sm() as s:
        found = resolve.find(s, meter)
        if found is None:
            return False, "unknown meter number"
        owner = repo.owner_phone(s, found.id)
    if not owner or digits_of(owner) != digits_of(phone):
        return False, "this phone is not registered for that meter"
    return True, ""


def balance_text(sm: sessionmaker[Session], meter: str) -> str:
    """The ``BAL`` reply from the meter's last stored receipt."""
    with sm() as s:
        found = resolve.find(s, meter)
        receipt = repo.last_sale_receipt(s, found.id) if found else None
    if receipt is None:
        return balance_reply(meter, None)
    credit = receipt.credit
    assert credit is not None  # a completed sale's receipt keeps its credit token
    return balance_reply(
        meter,
        LastPurchase(
            at=receipt.time,
            paid=receipt.amount_paid,
            credited=credited_text(receipt),
            digits=credit.digits,
        ),
    )


def finish(
    sm: sessionmaker[Session], msg: Inbound, scopes: list[str], reply: str, now: datetime
) -> None:
    """Step 3: store the reply on the message's records."""

    def store(s: Session) -> None:
        for scope in scopes:
            rec = repo.get_record(s, scope, msg.message_id)
            if rec is not None:
                rec.state = IdempotencyState.DONE.value
                rec.response_status = 200
                rec.response_body = {"reply": reply, "sent": False, "status": "replied"}
                rec.updated_at = now

    transaction.run_in(sm, store)


def mark_sent(sm: sessionmaker[Session], msg: Inbound) -> None:
    """Note that the gateway accepted the reply (a duplicate then sends nothing)."""

    def note(s: Session) -> None:
        rec = repo.get_record(s, msg.scope, msg.message_id)
        if rec is not None and rec.response_body is not None:
            rec.response_body = {**rec.response_body, "sent": True}

    transaction.run_in(sm, note)


def forget(sm: sessionmaker[Session], msg: Inbound, scopes: list[str]) -> None:
    """Drop an unfinished message after an error, so a retry can run it."""
    transaction.run_in(sm, lambda s: repo.delete_records(s, msg.message_id, scopes))


def window(minutes: int) -> timedelta:
    """A rate-limit window."""
    return timedelta(minutes=minutes)
