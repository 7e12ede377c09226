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
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final

from sqlalchemy.orm import Session

from stsgas.sts import (
    CURRENCY_UNIT,
    GAS_UNIT,
    ClearCredit,
    CreditToken,
    CurrencyCreditToken,
    IssuedToken,
    Token,
    decode_amount16,
    decode_currency,
    encode_amount16,
    encode_currency,
    management_token,
)
from stsgas.sts.amount import AMOUNT16_MAX
from stsgas.vending.audit import service as audit
from stsgas.vending.errors import (
    BadMeterCredit,
    CancelPending,
    Conflict,
    CreditBelowSale,
    Forbidden,
    MeterChanged,
    SaleCancelled,
)
from stsgas.vending.keys.security import SecurityModule
from stsgas.vending.kit.money import minor_unit
from stsgas.vending.kit.volume import LITRE, LITRES_PER_UNIT
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
from stsgas.vending.models import Token as TokenRow
from stsgas.vending.operators.permissions import Permission, allowed
from stsgas.vending.operators.repository import VendorRepository
from stsgas.vending.payments import reconcile
from stsgas.vending.policies import repository as policies
from stsgas.vending.sales import issue, payer
from stsgas.vending.sales import service as sales_service
from stsgas.vending.sales.aftercare import get_visible
from stsgas.vending.sales.receipt_money import money
from stsgas.vending.sales.repository import SaleRepository

#: the meter's gas credit registers: units (subclass 2) and currency (subclass 6)
REGISTER_UNITS: Final = 2
REGISTER_CURRENCY: Final = 6
#: what one of the meter's own units is worth: a litre in m³, 10^-5 of the currency
_SCALE: Final = {MeterMode.VOLUME.value: LITRE, MeterMode.AMOUNT.value: CURRENCY_UNIT}
#: the decimals the meter shows (m³ to the litre, money to 10^-5)
_DECIMALS: Final = {mode: -int(scale.as_tuple().exponent) for mode, scale in _SCALE.items()}
#: the fewest decimals the meter's display keeps of money: two, as it always did
#: (the meter's own rule, not the vending currency's ``STSGAS_CURRENCY_DECIMALS``)
METER_MONEY_SHOWN: Final = minor_unit(2)
#: the fewest decimals a shown value keeps (0.1 m³, 0.01 of the currency)
_LEAST: Final = {MeterMode.VOLUME.value: GAS_UNIT, MeterMode.AMOUNT.value: METER_MONEY_SHOWN}


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """What cancelling a sale does, worked out before anyone confirms.

    Meter values are in the meter's own units: litres by volume, 10^-5 of the
    currency by amount. ``credit_after`` is ``None`` when it cannot be known
    (by amount without a reading).
    """

    sale_id: int
    meter_number: str
    mode: str
    token_used: bool
    four_eyes: bool
    refund: str
    take: int
    meter_credit: int | None
    credit_after: int | None
    tokens: tuple[str, ...]
    preview: str
    last_tid: int

    def to_json(self) -> dict[str, Any]:
        """The plan as the API answers it, meter values as the meter shows them."""
        body = asdict(self)
        body["tokens"] = list(self.tokens)
        for key in ("take", "meter_credit", "credit_after"):
            value = body[key]
            body[key] = None if value is None else shown(value, self.mode)
        del body["last_tid"]
        return body


def shown(value: int, mode: str) -> str:
    """A meter value as its display reads (at least 1 decimal in m³, 2 in money)."""
    number, least = value * _SCALE[mode], _LEAST[mode]
    rounded = number.quantize(least)
    text = str(rounded) if number == rounded else str(number.normalize())
    return f"{text} m³" if mode == MeterMode.VOLUME.value else text


def parse_reading(text: str, mode: str) -> int:
    """The credit a customer read off the meter (query code 01), in the meter's units.

    ASCII digits, an optional minus (a meter in overdraft) and at most the
    decimals the meter shows (3 in m³, 5 in money); nothing else.
    """
    places = _DECIMALS[mode]
    value = text.strip()
    if not re.fullmatch(rf"-?[0-9]{{1,9}}(?:\.[0-9]{{1,{places}}})?", value):
        unit = "m³, e.g. 12.345" if mode == MeterMode.VOLUME.value else "money, e.g. 30.25"
        raise BadMeterCredit(
            f"type the credit the meter shows in {unit} (digits, at most {places} decimals)"
        )
    return int(Decimal(value) / _SCALE[mode])


def _units_at_most(units: int) -> int:
    """The largest credit a 16-bit amount holds that is not above ``units`` (0.1 m³)."""
    if units > AMOUNT16_MAX:
        raise BadMeterCredit("that is more credit than a gas token can carry; check the reading")
    field = encode_amount16(units)
    if decode_amount16(field) > units:
        field -= 1  # the encoding rounded up: the next lower value is below
    return decode_amount16(field)


def credit_token_of(sale: Sale) -> TokenRow:
    """The sale's credit token row (what the meter was given)."""
    return next(t for t in sale.tokens if t.kind == TokenKind.CREDIT.value)


def plan(sale: Sale, meter: Meter, *, token_used: bool, meter_credit: str | None) -> Plan:
    """Work out a cancellation; refuses what must not happen (already cancelled, a
    volume cancel without a reading, a meter showing less than the sale gave)."""
    if sale.status != SaleStatus.COMPLETED.value:
        raise SaleCancelled(f"sale {sale.id} is already {sale.status}", sale_id=sale.id)
    mode = meter.mode
    credit = credit_token_of(sale)
    expected = REGISTER_UNITS if mode == MeterMode.VOLUME.value else REGISTER_CURRENCY
    if credit.subclass != expected:
        raise Conflict(f"sale {sale.id} credited another register than the meter's mode")
    refund = money(sale.amount_paid) or "0.00"
    reading = (
        None
        if meter_credit is None or not meter_credit.strip()
        else (parse_reading(meter_credit, mode))
    )
    base = Plan(
        sale_id=sale.id,
        meter_number=meter.pan,
        mode=mode,
        token_used=token_used,
        four_eyes=False,
        refund=refund,
        take=0,
        meter_credit=reading,
        credit_after=reading,
        tokens=(),
        last_tid=meter.last_tid,
        preview=f"No token: the sale's token was never entered, so the meter keeps "
        f"its credit; {refund} is refunded now.",
    )
    if not token_used:
        return base
    if mode == MeterMode.AMOUNT.value:
        take = int(credit.amount or 0)
        after = None if reading is None else reading - take
        if reading is not None and reading < take:
            raise CreditBelowSale(
                f"the meter shows {shown(reading, mode)}, less than the {shown(take, mode)} "
                "this sale credited: part of it is used, so the sale cannot be taken back",
                sale_id=sale.id,
            )
        change = (
            f"goes from {shown(reading, mode)} to {shown(after, mode)}"
            if reading is not None and after is not None
            else f"goes down by {shown(take, mode)}"
        )
        return replace(
            base,
            four_eyes=True,
            take=take,
            credit_after=after,
            tokens=("take_back",),
            preview=f"The meter's credit {change}: one token takes exactly this sale's "
            f"{shown(take, mode)} off the meter. {refund} is refunded when a second "
            "supervisor approves.",
        )
    if reading is None:
        raise BadMeterCredit(
            "a volume meter cannot subtract: give the credit the meter shows now (query code 01)",
            sale_id=sale.id,
        )
    take = int(credit.amount or 0) * LITRES_PER_UNIT
    if reading < take:
        raise CreditBelowSale(
            f"the meter shows {shown(reading, mode)}, less than the {shown(take, mode)} this "
            "sale credited: part of it is used, so the sale cannot be taken back",
            sale_id=sale.id,
        )
    after = _units_at_most((reading - take) // LITRES_PER_UNIT) * LITRES_PER_UNIT
    tokens = ("clear_credit", "credit") if after else ("clear_credit",)
    then = f", then a credit of {shown(after, mode)}" if after else ""
    lost = reading - take - after
    rounding = (
        f" A credit token cannot carry the last {shown(lost, mode)}: it is not given back."
        if lost
        else ""
    )
    return replace(
        base,
        four_eyes=True,
        take=take,
        credit_after=after,
        tokens=tokens,
        preview=f"The meter's credit goes from {shown(reading, mode)} to {shown(after, mode)}: "
        f"enter clear credit{then}, before any other token.{rounding} {refund} is "
        "refunded when a second supervisor approves.",
    )


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
        made.append(
            ClearCredit(tid=_tid(meter, now), rnd=secrets.randbelow(16), register=REGISTER_UNITS)
        )
        units = int(p["credit_after"]) // LITRES_PER_UNIT
        if units:
            made.append(
                CreditToken(
                    subclass=REGISTER_UNITS,
                    tid=_tid(meter, now),
                    units=units,
                    rnd=secrets.randbelow(16),
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
