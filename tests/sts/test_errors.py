"""Bad input gets a typed error with a stable code, never a wrong token."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import stsgas.sts as sts
from stsgas.sts import (
    EA,
    BaseDate,
    CrcError,
    CreditToken,
    DecoderKey,
    MeterConfig,
    StsError,
    credit_token,
    decode,
    parse_digits,
)

CASES = json.loads((Path(__file__).parent.parent / "data/sts/bad-inputs.json").read_text("utf-8"))
#: a DKGA02 meter (test data file shared by the sts tests)
GOOD_METER: dict[str, Any] = json.loads(
    (Path(__file__).parent.parent / "data/sts/meter-dkga02.json").read_text("utf-8")
)


def _expect(case: dict[str, Any]) -> pytest.RaisesExc[StsError]:
    return pytest.raises(getattr(sts, case["error"]))


@pytest.mark.parametrize("case", CASES["digits"], ids=lambda c: c["why"])
def test_bad_token_text(case: dict[str, Any]) -> None:
    """Malformed token text raises TokenFormatError (code 'format')."""
    with _expect(case) as info:
        parse_digits(case["text"])
    assert info.value.code == case["code"]


@pytest.mark.parametrize("case", CASES["meters"], ids=lambda c: c["why"])
def test_bad_meter_config(case: dict[str, Any]) -> None:
    """Bad meter numbers, algorithms and keys are refused when the config is built."""
    doc = {**GOOD_METER, **case["patch"]}
    doc = {k: v for k, v in doc.items() if v is not None}
    with _expect(case) as info:
        MeterConfig.from_json(doc)
    assert info.value.code == case["code"]
    assert "abab" not in str(info.value)  # never echo key material


@pytest.mark.parametrize("case", CASES["credits"], ids=lambda c: c["why"])
def test_bad_credit_request(case: dict[str, Any]) -> None:
    """Out-of-range amounts and issue times raise, and no token is made."""
    meter = MeterConfig.from_json(GOOD_METER)
    with _expect(case) as info:
        credit_token(
            meter, case["amount"], at=datetime.fromisoformat(case["at"]), subclass=case["subclass"]
        )
    assert info.value.code == case["code"]


def test_float_amounts_are_refused() -> None:
    """Money is never a float: a float amount is a TypeError."""
    meter = MeterConfig.from_json(GOOD_METER)
    with pytest.raises(TypeError):
        credit_token(meter, 1.5, at=datetime(2004, 3, 1, tzinfo=UTC))  # type: ignore[arg-type]


def test_wrong_key_is_a_crc_error() -> None:
    """A token decoded under another meter's key fails the CRC."""
    meter = MeterConfig.from_json(GOOD_METER)
    digits = credit_token(meter, "1", at=datetime(2004, 3, 1, 13, 55, tzinfo=UTC)).digits
    other = DecoderKey(bytes.fromhex("0123456789abcdef"), EA.STA)
    with pytest.raises(CrcError) as info:
        decode(digits, other)
    assert info.value.status == 13


@pytest.mark.parametrize(("ea", "size"), [(EA.STA, 16), (EA.DEA, 7), (EA.MISTY1, 8)])
def test_decoder_key_length_checked_per_algorithm(ea: EA, size: int) -> None:
    """DecoderKey refuses a key of the wrong length for its algorithm."""
    with pytest.raises(sts.DecoderKeyError):
        DecoderKey(bytes(size), ea)


def test_token_fields_out_of_range() -> None:
    """Token values check their fields on construction."""
    with pytest.raises(sts.RangeError):
        CreditToken(tid=1 << 24, units=1)
    with pytest.raises(sts.RangeError):
        CreditToken(tid=1, units=1, rnd=16)


def test_reserved_minute_moves_to_the_next() -> None:
    """An issue time of 00:01 UTC gets the TID of 00:02 (CTSA09)."""
    bd = BaseDate.BD2014
    assert sts.tid_for(datetime(2024, 5, 1, 0, 1, tzinfo=UTC), bd) == sts.tid_for(
        datetime(2024, 5, 1, 0, 2, tzinfo=UTC), bd
    )


def test_last_minute_of_each_base_date() -> None:
    """The last representable minute is accepted and the next refused."""
    for bd in BaseDate:
        assert sts.tid_for(bd.last_minute, bd) == sts.TID_MAX
    assert BaseDate.BD1993.last_minute == datetime(2024, 11, 24, 20, 15, tzinfo=UTC)


def test_key_expiry_rule() -> None:
    """TID >> 16 > KEN means expired; KEN 255 never expires."""
    assert not sts.key_expired(sts.TID_MAX, 255)
    assert sts.key_expired(5 << 16, 4)
    assert not sts.key_expired((4 << 16) + 0xFFFF, 4)


def test_issued_amount_is_decimal() -> None:
    """The recipe reports the credited amount as a Decimal."""
    meter = MeterConfig.from_json(GOOD_METER)
    issued = credit_token(meter, Decimal("2000"), at=datetime(2004, 3, 1, tzinfo=UTC))
    assert issued.amount == Decimal("2000.4")
    assert issued.grouped.count(" ") == 4
