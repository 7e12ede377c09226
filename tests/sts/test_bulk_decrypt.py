"""Bulk decoding is bit-identical to the scalar codec: digits, decryption and the CRC check."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stsgas.sts import EA, CrcError, DecoderKey, DecoderKeyError, Token, encode
from stsgas.sts.bulk import KeyIndex
from stsgas.sts.bulk_decrypt import decode_bulk, parse_digits_bulk
from stsgas.sts.codec import decode_fields
from stsgas.sts.digits import format_digits

from . import strategies as strat


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 10**20 - 1), min_size=1, max_size=30))
def test_parse_digits_bulk_is_the_integer(values: list[int]) -> None:
    """Any 20 digits give ``hi * 2**64 + lo`` equal to their integer value."""
    hi, lo = parse_digits_bulk(np.array([f"{v:020d}".encode() for v in values], dtype="S20"))
    assert [(int(h) << 64) | int(low) for h, low in zip(hi, lo, strict=True)] == values


@st.composite
def _batches(draw: st.DrawFn) -> tuple[EA, list[DecoderKey], list[int], list[int]]:
    """Tokens of one algorithm under a few keys, some of them typed wrong or random."""
    ea = draw(strat.eas)
    keys = draw(st.lists(strat.keys(ea), min_size=1, max_size=4))
    n = draw(st.integers(1, 40))
    chosen = [draw(st.integers(0, len(keys) - 1)) for _ in range(n)]
    values = []
    for k in chosen:
        token: Token = draw(strat.tokens_for(ea))
        value = int(encode(token, keys[k]))
        kind = draw(st.integers(0, 5))
        if kind == 0:
            value ^= 1 << draw(st.integers(0, 65))  # one bit typed wrong
        elif kind == 1:
            value = draw(st.integers(0, (1 << 66) - 1))
        values.append(value)
    return ea, keys, chosen, values


@settings(max_examples=150, deadline=None)
@given(_batches())
def test_decode_bulk_equals_decode_fields(
    batch: tuple[EA, list[DecoderKey], list[int], list[int]],
) -> None:
    """Per token: the same (class, subclass, data) as decode_fields, and a CRC verdict that
    agrees with it raising CrcError."""
    _, keys, chosen, values = batch
    hi, lo = parse_digits_bulk(np.array([format_digits(v).encode() for v in values], dtype="S20"))
    got = decode_bulk(KeyIndex(keys=keys, index=np.array(chosen, dtype=np.intp)), hi, lo)
    for j, (k, value) in enumerate(zip(chosen, values, strict=True)):
        try:
            want = decode_fields(value, keys[k])
        except CrcError:
            assert not got.crc_ok[j]
            continue
        assert got.crc_ok[j]
        assert (int(got.classes[j]), int(got.subclasses[j]), int(got.data[j])) == want


def test_decode_bulk_takes_one_algorithm() -> None:
    """Keys of two algorithms in one call are refused, as in the encoder."""
    keys = [DecoderKey(bytes(8), EA.STA), DecoderKey(bytes(8), EA.DEA)]
    hi, lo = parse_digits_bulk(np.array([b"0" * 20, b"1" * 20], dtype="S20"))
    with pytest.raises(DecoderKeyError):
        decode_bulk(KeyIndex(keys=keys, index=np.array([0, 1], dtype=np.intp)), hi, lo)
