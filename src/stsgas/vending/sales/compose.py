"""The pure part of a sale: check it, price it, make its token and the rows to write.

The sale pipeline (:mod:`.pipeline`) calls these in its one order:
:func:`check_seller` → :func:`check_meter` → :func:`price_sale` (through
:mod:`.step`) → (key data, TID) → :func:`compose` (which refuses a token over
the meter's recharge limit) → the store's write → :func:`.settle.settle`. The
request it works on is :mod:`.request`'s; judging the write, and the rate
limits, are :mod:`.settle`'s. Nothing here touches a database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from stsgas.sts import GAS_UNIT, IssuedToken, MeterConfig, RangeError, credit_token_at_tid
from stsgas.sts import key_expired as _key_expired
from stsgas.vending.errors import (
    BadAmount,
    KeyExpired,
    MeterNotActive,
    NoFloat,
    NoTariffInForce,
    OverRechargeLimit,
)
from stsgas.vending.keys.rules import check_credit_key_type
from stsgas.vending.kit import localtime
from stsgas.vending.kit.entropy import journal_id, nibble
from stsgas.vending.kit.volume import LITRE, LITRES_PER_UNIT
from stsgas.vending.ledger import service as ledger
from stsgas.vending.models import (
    FixedChargePeriod,
    MeterMode,
    MeterStatus,
    PaidFrom,
    SaleStatus,
    TokenKind,
)
from stsgas.vending.policies import rules as policy_rules
from stsgas.vending.sales import chain, pricing, receipts
from stsgas.vending.sales import payer as payer_of
from stsgas.vending.sales.issue import issued_rows
from stsgas.vending.sales.receipt_money import major, money
from stsgas.vending.sales.receipt_parts import ReceiptPolicyLine
from stsgas.vending.sales.request import SaleRequest, Seller
from stsgas.vending.sales.rows import LockedMeter, SaleWrite, VersionRow
from stsgas.vending.sales.settle import hour_of, minute_of


@dataclass(frozen=True, slots=True, kw_only=True)
class Composed:
    """A sale ready to write, and the receipt it answers with once committed."""

    write: SaleWrite
    receipt: receipts.Receipt
    #: the receipt's JSON body, rendered once: the row keeps it and the API answers it
    body: dict[str, Any]


def _utc(at: datetime) -> datetime:
    """A stored instant (SQLite keeps them without a zone, in UTC) as an aware one."""
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def month_start(now: datetime) -> datetime:
    """The start of ``now``'s month in the utility's zone (``STSGAS_TIMEZONE``): the
    month's purchases (step tariff, recharge limit) count from here."""
    return localtime.month_start(_utc(now), localtime.vending_zone.get())


def journal_lines(
    *,
    vendor_id: int | None,
    channel: str,
    paid: int,
    energy: int,
    fixed: int,
    tax: int,
    debt: int,
    paid_from: str = PaidFrom.FLOAT.value,
    customer_id: int | None = None,
) -> list[ledger.Line]:
    """The journal of a sale: the payer's account pays for each receipt item."""
    payer = payer_of.account(
        paid_from=paid_from, vendor_id=vendor_id, channel=channel, customer_id=customer_id
    )
    return [
        ledger.Line(account=payer, debit=paid),
        ledger.Line(account=ledger.REVENUE_GAS, credit=energy),
        ledger.Line(account=ledger.REVENUE_FIXED, credit=fixed),
        ledger.Line(account=ledger.TAX, credit=tax),
        ledger.Line(account=ledger.CUSTOMER_DEBT, credit=debt),
    ]


def check_seller(seller: Seller) -> None:
    """Every sale draws a vendor's float (and counts against its rate limit): an
    account that sells for no vendor may not sell, whatever its role."""
    if seller.vendor_id is None:
        raise NoFloat(
            f"{seller.username} sells from no vendor float: an admin must assign the "
            "account a vendor before it can sell"
        )


def check_meter(meter: LockedMeter) -> VersionRow:
    """The meter may be sold to: active, with a tariff in force (returned)."""
    if meter.status != MeterStatus.ACTIVE.value:
        raise MeterNotActive(f"meter {meter.pan} is {meter.status}", meter_status=meter.status)
    if meter.version is None:
        raise NoTariffInForce(
            f"meter {meter.pan} has no tariff in force: assign it a tariff with a version "
            "in force before selling"
        )
    return meter.version


def months_due(paid_at: datetime | None, now: datetime) -> int:
    """Monthly fixed charges due at ``now``: every month after the last one paid, up to
    and including ``now``'s (0 when this month is paid); 1 when none was ever paid.
    Months are the utility's local calendar months (``STSGAS_TIMEZONE``)."""
    if paid_at is None:
        return 1
    zone = localtime.vending_zone.get()
    return max(0, localtime.months_between(_utc(paid_at), _utc(now), zone))


def price_sale(meter: LockedMeter, version: VersionRow, paid: int, now: datetime) -> pricing.Priced:
    """Itemise the payment under the tariff in force (this month's purchases count;
    a monthly fixed charge is taken for every month not yet paid)."""
    volume = meter.mode == MeterMode.VOLUME.value
    fixed, months = version.fixed_charge, None
    if version.fixed_charge_period == FixedChargePeriod.MONTH.value:
        months = months_due(meter.fixed_paid_at, now)
        fixed = version.fixed_charge * months
    if meter.policy is not None:  # the customer's credit policy: its own receipt lines
        return policy_rules.price(
            cash=paid,
            volume_mode=volume,
            fixed_charge=fixed,
            fixed_months=months,
            tax_rate_bp=version.tax_rate_bp,
            debt_recovery_bp=version.debt_recovery_bp,
            steps=list(version.steps),
            month_litres=meter.month_units * LITRES_PER_UNIT if volume else 0,
            state=meter.policy,
        )
    return pricing.price(
        paid=paid,
        volume_mode=volume,
        fixed_charge=fixed,
        tax_rate_bp=version.tax_rate_bp,
        debt_recovery_bp=version.debt_recovery_bp,
        debt=meter.customer_debt,
        steps=list(version.steps),
        month_litres=meter.month_units * LITRES_PER_UNIT if volume else 0,
        fixed_months=months,
    )


def check_recharge_limit(meter: LockedMeter, credit: IssuedToken) -> None:
    """Refuse a credit the meter must reject: one token above its recharge limit."""
    if meter.recharge_limit is None or credit.amount is None:
        return
    volume = meter.mode == MeterMode.VOLUME.value
    limit = meter.recharge_limit * LITRE if volume else major(meter.recharge_limit)
    if credit.amount > limit:
        unit = " m³" if volume else ""
        raise OverRechargeLimit(
            f"the credit of {credit.amount}{unit} is over meter {meter.pan}'s recharge limit "
            f"of {limit.normalize():f}{unit}: the meter would reject the token; sell less"
        )


def _credit(config: MeterConfig, priced: pricing.Priced, tid: int) -> IssuedToken:
    """The credit token at the TID the sale chose (``stsgas.sts``'s own recipe)."""
    try:
        if priced.credit_units is not None:
            return credit_token_at_tid(
                config,
                priced.credit_units * GAS_UNIT,
                tid=tid,
                rnd=nibble(),
                subclass=2,
            )
        assert priced.credit_money is not None
        return credit_token_at_tid(config, major(priced.credit_money), tid=tid, subclass=6)
    except RangeError as exc:
        raise BadAmount(f"the credit is above the token's range: {exc}") from None


def compose(
    meter: LockedMeter,
    version: VersionRow,
    priced: pricing.Priced,
    req: SaleRequest,
    *,
    operator: Seller,
    fp: str,
    config: MeterConfig,
    kcts: list[IssuedToken],
    tid: int,
    now: datetime,
) -> Composed:
    """The credit token (after any key change tokens), the receipt and every row to write."""
    check_credit_key_type(config.key_type, meter.pan)
    if _key_expired(tid, config.ken):
        raise KeyExpired(f"meter {meter.pan}'s key expired (KEN {config.ken}); change its key")
    credit = _credit(config, priced, tid)
    assert credit.tid == tid
    check_recharge_limit(meter, credit)
    sale_id = meter.sale_id
    vendor_id = payer_of.vendor_of(req, operator)
    steps = [
        {
            "position": u.position,
            "litres": u.litres,
            "price_per_m3": u.price_per_m3,
            "amount": money(u.amount),
        }
        for u in priced.steps
    ]
    issued = issued_rows(
        [(TokenKind.KCT.value, k) for k in kcts] + [(TokenKind.CREDIT.value, credit)]
    )
    receipt = receipts.build(
        sale_id=sale_id,
        meter_pan=meter.pan,
        mode=meter.mode,
        channel=req.channel,
        operator=operator.username,
        vendor_id=vendor_id,
        created_at=now,
        priced=priced,
        tariff_steps=steps,
        tokens=issued,
        fixed_per_period=version.fixed_charge,
        fixed_period=version.fixed_charge_period,
        policy_lines=_policy_lines(priced),
    )
    body = receipt.as_json()
    lines = [
        ln
        for ln in journal_lines(
            vendor_id=vendor_id,
            channel=req.channel,
            paid=priced.paid,
            energy=priced.energy_amount,
            fixed=priced.fixed_charge,
            tax=priced.tax,
            debt=priced.debt_recovered,
            paid_from=req.paid_from,
            customer_id=meter.customer_id,
        )
        if ln.debit or ln.credit
    ]
    memo = f"sale {sale_id}"
    ledger.check_balanced(lines, memo)
    sale = {
        "id": sale_id,
        "channel": req.channel,
        "operator_id": operator.id,
        "vendor_id": vendor_id,
        "meter_id": meter.id,
        "customer_id": meter.customer_id,
        "tariff_version_id": version.id,
        "amount_paid": priced.paid,
        "fixed_charge": priced.fixed_charge,
        "fixed_months": priced.fixed_months,
        "debt_recovered": priced.debt_recovered,
        "tax": priced.tax,
        "energy_amount": priced.energy_amount,
        "credit_units": priced.credit_units,
        "credit_money": priced.credit_money,
        "tariff_steps": steps,
        "key_change": bool(kcts),
        "status": SaleStatus.COMPLETED.value,
        "idempotency_key": req.idempotency_key,
        "request_fingerprint": fp,
        "response": body,
        "reprint_count": 0,
        "created_at": now,
        "paid_from": req.paid_from,
    }
    head = sale["chain_hash"] = chain.link(
        meter.sales_head, chain.facts_of(sale, [t.digits for t in issued])
    )
    journal = journal_id()
    write = SaleWrite(
        sale=sale,
        tokens=[
            {
                "sale_id": sale_id,
                "management_request_id": None,
                "meter_id": meter.id,
                "kind": t.kind,
                "sequence": t.sequence,
                "token_class": t.token_class,
                "subclass": t.subclass,
                "tid": t.tid,
                "amount": t.amount,
                "digits": t.digits,
                "created_at": now,
            }
            for t in issued
        ],
        journal=[
            {
                "journal": journal,
                "code": ln.account,
                "sale_id": sale_id,
                "debit": ln.debit,
                "credit": ln.credit,
                "memo": memo,
                "created_at": now,
            }
            for ln in lines
        ],
        meter_id=meter.id,
        last_tid=tid,
        sales_head=head,
        customer_id=meter.customer_id,
        debt_recovered=priced.debt_recovered,
        vendor_id=vendor_id,
        paid=priced.paid,
        hour=hour_of(now),
        minute=minute_of(now),
    )
    return Composed(write=write, receipt=receipt, body=body)


def _policy_lines(priced: pricing.Priced) -> tuple[ReceiptPolicyLine, ...]:
    """The receipt's credit-policy lines (none for a customer without a policy)."""
    if not isinstance(priced, policy_rules.PolicyPriced):
        return ()
    return tuple(
        ReceiptPolicyLine.of(ln.kind, policy_rules.LABELS[ln.kind], ln.amount, ln.units)
        for ln in priced.lines
    )
