"""The typed receipt answers exactly the JSON the API has always answered, and reads back.

The bodies in tests/data/vending/receipts were written by the builder when it
still returned a dict: a sale (amount meter, key change, monthly fixed charge),
a volume sale (tariff steps, change) and the read of a cancelled sale.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stsgas.vending.models import Sale
from stsgas.vending.sales import aftercare, receipt_parts, receipts
from stsgas.vending.sales.issue import IssuedRow
from stsgas.vending.sales.pricing import Priced, StepUse

DATA = Path(__file__).resolve().parents[2] / "data" / "vending" / "receipts"
CASES: dict[str, dict[str, Any]] = json.loads((DATA / "cases.json").read_text())


def _build(name: str) -> receipts.Receipt:
    args = dict(CASES[name]["build"])
    priced = dict(args["priced"])
    priced["steps"] = [StepUse(**s) for s in priced["steps"]]
    args["priced"] = Priced(**priced)
    args["created_at"] = datetime.fromisoformat(args["created_at"])
    args["tokens"] = [IssuedRow(**t) for t in args["tokens"]]
    return receipts.build(**args)


def _pinned(file: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((DATA / file).read_text())
    return body


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_sale_receipt_serialises_to_the_pinned_json(name: str) -> None:
    """The API's receipt body, key for key and in the same order, for each kind of sale."""
    body = _build(name).as_json()
    pinned = _pinned(CASES[name]["receipt"])
    assert body == pinned
    assert list(body) == list(pinned)


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_stored_receipt_reads_back_to_the_same_model(name: str) -> None:
    """What the database keeps reads back whole: a replay answers the very same body."""
    receipt = _build(name)
    assert receipts.Receipt.from_json(receipt.as_json()) == receipt


def test_a_cancelled_sale_reads_as_the_pinned_json() -> None:
    """Reading a cancelled sale withholds its tokens and says so, as it always has."""
    sale = Sale(
        id=41,
        response=_build("sale").as_json(),
        status="cancelled",
        reprint_count=1,
        cancelled_at=datetime(2026, 3, 14, 11, 0, tzinfo=UTC),
    )
    body = aftercare.body_of(sale)
    pinned = _pinned("cancelled.json")
    assert body == pinned
    assert list(body) == list(pinned)


def test_a_receipt_stored_before_change_was_itemised_still_reads() -> None:
    """A body without the tendered/change and fixed-period fields reads as a per-sale
    charge that gave no change (what such a sale was)."""
    old = _build("sale").as_json()
    for key in (
        "amount_tendered",
        "change",
        "fixed_charge_period",
        "fixed_charge_rate",
        "fixed_charge_months",
    ):
        del old[key]
    receipt = receipts.Receipt.from_json(old)
    assert receipt.amount_tendered == receipt.amount_paid == Decimal("100.00")
    assert receipt.change == Decimal("0.00")
    assert (receipt.fixed_charge_period, receipt.fixed_charge_rate) == ("sale", Decimal("5.00"))


_money = st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False)
_digits = st.text(alphabet="0123456789", min_size=20, max_size=20)
_tokens = st.lists(
    st.builds(
        receipt_parts.ReceiptToken,
        sequence=st.integers(1, 10**6),
        kind=st.sampled_from(["credit", "kct"]),
        token_class=st.integers(0, 3),
        subclass=st.integers(0, 15),
        tid=st.none() | st.integers(0, 2**24 - 1),
        digits=_digits,
    ),
    max_size=4,
)
_steps = st.lists(
    st.builds(
        receipt_parts.ReceiptStep,
        position=st.integers(1, 9),
        litres=st.integers(0, 10**9),
        price_per_m3=st.integers(0, 10**9),
        amount=st.none() | _money,
    ),
    max_size=3,
)
_times = st.datetimes(
    min_value=datetime(1993, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
).map(lambda t: t.replace(microsecond=0))


@given(
    receipt=st.builds(
        receipts.Receipt,
        sale_id=st.integers(1, 2**62),
        status=st.sampled_from(["completed", "cancelled"]),
        meter_number=st.text(alphabet="0123456789", min_size=11, max_size=18),
        mode=st.sampled_from(["amount", "volume"]),
        channel=st.sampled_from(["counter", "pos", "sms", "api"]),
        operator=st.text(min_size=1, max_size=20),
        vendor_id=st.none() | st.integers(1, 10**6),
        time=_times,
        tid=st.none() | st.integers(0, 2**24 - 1),
        amount_tendered=_money,
        amount_paid=_money,
        change=_money,
        fixed_charge=_money,
        fixed_charge_period=st.sampled_from(["sale", "month"]),
        fixed_charge_rate=_money,
        fixed_charge_months=st.none() | st.integers(0, 600),
        debt_recovered=_money,
        tax=_money,
        energy_amount=_money,
        units_credited=st.none() | st.decimals(0, 10**7, places=1, allow_nan=False),
        money_credited=st.none() | _money,
        tariff_steps=_steps.map(tuple),
        key_change=st.booleans(),
        tokens=_tokens.map(tuple),
        token=st.none() | _digits,
        copy=st.booleans(),
        notes=st.lists(st.text(max_size=40), max_size=3).map(tuple),
        reprint_count=st.none() | st.integers(0, 10**4),
        cancelled_at=st.none() | _times,
    )
)
def test_every_receipt_survives_its_json(receipt: receipts.Receipt) -> None:
    """JSON out and back (through text, as the database keeps it) is the same receipt."""
    text = json.dumps(receipt.as_json())
    assert receipts.Receipt.from_json(json.loads(text)) == receipt
