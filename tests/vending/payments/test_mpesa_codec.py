"""The M-Pesa callback reader: any JSON object is a payment report or a BadCallback,
never another error; amounts are read exactly in minor units."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from stsgas.vending.payments.mpesa import MpesaC2B
from stsgas.vending.payments.provider import BadCallback

_ADAPTER = MpesaC2B(
    "http://127.0.0.1:9",
    consumer_key="",
    consumer_secret="",
    shortcode="600000",
    decimals=2,
)
_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=80),
    st.lists(st.integers()),
)
_KEYS = st.sampled_from(
    ["TransID", "TransAmount", "BillRefNumber", "MSISDN", "BusinessShortCode", "Other"]
)


@settings(deadline=None)  # a loaded CI machine must not turn a slow example into a failure
@given(st.dictionaries(_KEYS, _VALUES))
def test_any_body_is_a_report_or_a_bad_callback(body: dict[str, Any]) -> None:
    try:
        reported = _ADAPTER.parse_callback(body)
    except BadCallback:
        return
    assert reported.amount > 0
    assert reported.txn_id == str(body["TransID"]).strip()


@given(
    st.integers(min_value=1, max_value=10**12), st.text("0123456789ABCDEF", min_size=1, max_size=20)
)
def test_amounts_are_exact_minor_units(minor: int, txn: str) -> None:
    text = f"{Decimal(minor).scaleb(-2):.2f}"
    reported = _ADAPTER.parse_callback(
        {"TransID": txn, "TransAmount": text, "BillRefNumber": "C1", "BusinessShortCode": "600000"}
    )
    assert reported.amount == minor


def test_another_shortcode_and_bad_amounts_are_refused() -> None:
    base = {"TransID": "T1", "TransAmount": "10.00", "BusinessShortCode": "600000"}
    for changed in (
        {"BusinessShortCode": "999999"},
        {"TransAmount": "0"},
        {"TransAmount": "-5"},
        {"TransAmount": "1.001"},
        {"TransAmount": "1e3"},
        {"TransID": ""},
        {"TransID": "x" * 65},
    ):
        try:
            _ADAPTER.parse_callback(base | changed)
        except BadCallback:
            continue
        raise AssertionError(f"accepted {changed}")
