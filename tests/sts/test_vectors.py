"""Every vector of the shared STS suite, checked in both directions."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from stsgas.sts import (
    EA,
    BaseDate,
    DecoderKey,
    MeterConfig,
    crc_field,
    credit_token,
    decode,
    decode_amount16,
    decode_fields,
    encode,
    encode_amount16,
    encode_fields,
    key_change_tokens,
    parse_digits,
    tid_for,
)
from stsgas.sts.ciphers import StaCipher, StaTables
from stsgas.sts.crc import crc16_modbus
from stsgas.sts.digits import format_digits, transpose
from stsgas.sts.layout import parse_fields, token_fields

from .vectors import params


def _data44(inp: dict[str, Any]) -> int:
    if "data44_hex" in inp:
        return int(inp["data44_hex"], 16)
    if "control_bits_hex" in inp:
        mfr_bits = 8 if inp["subclass"] == 0 else 16
        manufacturer: int = inp["manufacturer_code"]
        return int(inp["control_bits_hex"], 16) << mfr_bits | manufacturer
    rnd = inp.get("rnd", inp.get("rnd_or_sign_exp", inp.get("sign_exp_nibble")))
    assert isinstance(rnd, int)
    field16 = inp.get("field16")
    if field16 is None:
        field16 = encode_amount16(inp["amount_units_0p1"])
    tid: int = inp["tid"]
    return rnd << 40 | tid << 16 | field16


def _meter(inp: dict[str, Any], **over: Any) -> MeterConfig:
    doc = {
        "pan": inp["meter_pan"],
        "key_type": inp["key_type"],
        "sgc": inp["supply_group_code"],
        "ti": inp["tariff_index"],
        "krn": inp["key_revision"],
        "base_date": inp.get("base_date", 1993),
        "ea": inp["ea"],
        "dkga": inp["dkga"],
        "vending_key": inp["vending_key"],
    }
    doc.update(over)
    return MeterConfig.from_json(doc)


def _key(v: dict[str, Any]) -> DecoderKey | None:
    inp, exp = v["inputs"], v["expected"]
    hexkey = exp.get("decoder_key_iec_order") or inp.get("decoder_key")
    if hexkey is None:
        return None
    return DecoderKey(bytes.fromhex(hexkey), EA.parse(inp["ea"]))


def _is_token_vector(v: dict[str, Any]) -> bool:
    return "token" in v["expected"] and v["inputs"].get("ea") not in (None, "07-SAMPLE-TABLES")


@pytest.mark.parametrize("v", params(_is_token_vector))
def test_token_vector_encodes_and_decodes(v: dict[str, Any]) -> None:
    """Fields encode to the expected 20 digits, and the digits decode to the same fields."""
    inp, exp = v["inputs"], v["expected"]
    cls, sub, data = inp["token_class"], inp["subclass"], _data44(inp)
    key = _key(v)
    assert format_digits(encode_fields(cls, sub, data, key)) == exp["token"]  # type: ignore[arg-type]
    assert decode_fields(parse_digits(exp["token"]), key) == (cls, sub, data)
    if "plaintext_block_hex" in exp:
        block = int(exp["plaintext_block_hex"], 16)
        assert block >> 16 & (1 << 44) - 1 == data
        currency = cls == 0 and 4 <= sub <= 7
        assert crc_field(cls << 48 | sub << 44 | data, currency=currency) == block & 0xFFFF
    # the typed value round-trips to the same fields and the same digits
    wide = key is not None and key.ea is EA.MISTY1
    value = parse_fields(cls, sub, data, wide_key=wide)
    assert token_fields(value) == (cls, sub, data)
    assert decode(exp["token"], key) == value
    if key is not None:
        assert encode(value, key) == exp["token"]


def _has_derivation(v: dict[str, Any]) -> bool:
    return "vending_key" in v["inputs"] and bool(v["expected"].get("decoder_key_iec_order"))


def _has_issue_time(v: dict[str, Any]) -> bool:
    inp = v["inputs"]
    return "base_date" in inp and "(" not in inp.get("tid_datetime_utc", "(")


@pytest.mark.parametrize("v", params(_has_derivation))
def test_decoder_key_derivation(v: dict[str, Any]) -> None:
    """DKGA02/DKGA04 give the vector's decoder key from the vending key and meter data."""
    assert _meter(v["inputs"]).key().hex() == v["expected"]["decoder_key_iec_order"]


@pytest.mark.parametrize("v", params(_has_issue_time))
def test_tid_from_issue_time(v: dict[str, Any]) -> None:
    """The issue time (UTC) and base date give the vector's TID."""
    inp = v["inputs"]
    at = datetime.fromisoformat(inp["tid_datetime_utc"]).replace(tzinfo=UTC)
    assert tid_for(at, BaseDate(inp["base_date"])) == inp["tid"]


def _is_recipe_vector(v: dict[str, Any]) -> bool:
    inp = v["inputs"]
    return (
        inp.get("token_class") == 0
        and "vending_key" in inp
        and "tid_datetime_utc" in inp
        and "base_date" in inp
        and ("amount_units_0p1" in inp or "currency_value_1e5th_units" in inp)
    )


@pytest.mark.parametrize("v", params(_is_recipe_vector))
def test_credit_recipe_reproduces_vector(v: dict[str, Any]) -> None:
    """credit_token(meter, amount, at=…) gives the vector's token from the user-level inputs."""
    inp = v["inputs"]
    at = datetime.fromisoformat(inp["tid_datetime_utc"]).replace(tzinfo=UTC)
    sub = inp["subclass"]
    if sub <= 3:
        amount = Decimal(inp["amount_units_0p1"]) / 10
        rnd = inp.get("rnd", inp.get("rnd_or_sign_exp"))
    else:
        amount = Decimal(inp["currency_value_1e5th_units"]) / 100_000
        rnd = 0
    issued = credit_token(_meter(inp), amount, at=at, rnd=rnd, subclass=sub)
    assert issued.digits == v["expected"]["token"]
    assert issued.tid == inp["tid"]
    # never less than asked, and exactly what the token's field carries
    assert issued.amount is not None
    assert issued.amount >= amount
    if sub <= 3:
        assert issued.amount == Decimal(decode_amount16(inp["field16"])) / 10


@pytest.mark.parametrize("v", params(lambda v: "tokens" in v["expected"]))
def test_key_change_sets(v: dict[str, Any]) -> None:
    """Each listed key change token decodes under its key; our generator makes the same set."""
    inp = v["inputs"]
    ea = EA.parse(inp["ea"])
    keys = {"old_dk": inp["old_dk"], "new_dk": inp.get("new_dk")}
    for tok in v["expected"]["tokens"]:
        key = DecoderKey(bytes.fromhex(keys[tok["decrypted_with"]]), ea)
        fields = decode_fields(parse_digits(tok["token"]), key)
        assert fields == (tok["token_class"], tok["subclass"], int(tok["data44_hex"], 16))
    if "new_krn" not in inp:
        return
    old = _meter(inp)
    assert old.key().hex() == inp["old_dk"]
    new = _meter(inp, sgc=inp["new_sgc"], ti=inp["new_ti"], krn=inp["new_krn"])
    assert new.key().hex() == inp["new_dk"]
    kcts = [t for t in v["expected"]["tokens"] if t["token_class"] == 2]
    three = any(t["subclass"] == 8 for t in kcts)
    made = key_change_tokens(old, new, three_token=three)
    assert [t.digits for t in made] == [t["token"] for t in kcts]


@pytest.mark.parametrize("v", params(lambda v: v["inputs"].get("ea") == "07-SAMPLE-TABLES"))
def test_sample_tables_worked_example(v: dict[str, Any]) -> None:
    """The standard's sample STA tables reproduce the worked example (66-bit value and digits)."""
    inp, exp = v["inputs"], v["expected"]
    cipher = StaCipher(StaTables.builtin("sample"))
    block = int(exp["plaintext_block_hex"], 16)
    enc = cipher.encrypt(int(inp["decoder_key"], 16), block)
    t66 = transpose(enc, inp["token_class"])
    assert t66 == int(exp["token_66bit_hex"], 16)
    assert format_digits(t66) == exp["token"]
    assert cipher.decrypt(int(inp["decoder_key"], 16), enc) == block


@pytest.mark.parametrize("v", params(lambda v: v["source_kind"] == "crc_vector"))
def test_crc_vectors(v: dict[str, Any]) -> None:
    """The CRC of the listed 7 bytes, byte-swapped, is the expected field."""
    raw = bytes.fromhex(v["inputs"]["bytes7_hex"])
    crc = crc16_modbus(raw)
    assert f"{(crc & 0xFF) << 8 | crc >> 8:04x}" == v["expected"]["crc_field_hex"]
    assert crc_field(int.from_bytes(raw, "big")) == int(v["expected"]["crc_field_hex"], 16)


def test_every_vector_is_checked() -> None:
    """No vector in the file falls through every test above."""
    from .vectors import all_vectors

    unchecked = [
        v["id"]
        for v in all_vectors()
        if not (
            _is_token_vector(v)
            or "tokens" in v["expected"]
            or v["source_kind"] == "crc_vector"
            or v["inputs"].get("ea") == "07-SAMPLE-TABLES"
        )
    ]
    assert unchecked == []
