"""The bulk encoder is bit-identical to the scalar codec, for every algorithm."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stsgas.sts import EA, DecoderKey, RangeError, Token, encode
from stsgas.sts.bulk import KeyIndex, digits_of, encode_bulk, encode_credit_bulk
from stsgas.sts.digits import format_digits, parse_digits
from stsgas.sts.layout import token_fields
from stsgas.sts.tokens import CreditToken

from . import strategies as strat
from .test_vectors import _data44, _is_token_vector, _key
from .vectors import params


@st.composite
def batches(draw: st.DrawFn) -> tuple[list[DecoderKey], list[Token]]:
    ea = draw(strat.eas)
    keys = draw(st.lists(strat.keys(ea), min_size=1, max_size=4))
    n = draw(st.integers(1, 40))
    chosen = [keys[draw(st.integers(0, len(keys) - 1))] for _ in range(n)]
    tokens = [draw(strat.tokens_for(ea)) for _ in range(n)]
    return chosen, tokens


@settings(max_examples=80, deadline=None)
@given(batches())
def test_bulk_equals_scalar(batch: tuple[list[DecoderKey], list[Token]]) -> None:
    """encode_bulk gives exactly the digits of encode, token by token."""
    keys, tokens = batch
    fields = [token_fields(t) for t in tokens]
    out = encode_bulk(keys, [f[0] for f in fields], [f[1] for f in fields], [f[2] for f in fields])
    assert out.astype(str).tolist() == [encode(t, k) for t, k in zip(tokens, keys, strict=True)]


@settings(max_examples=60, deadline=None)
@given(batches())
def test_key_index_form_equals_per_token_keys(batch: tuple[list[DecoderKey], list[Token]]) -> None:
    """Distinct keys plus a per-token index give the same tokens as one key per token."""
    keys, tokens = batch
    fields = [token_fields(t) for t in tokens]
    distinct = list(dict.fromkeys(keys))
    index = np.array([distinct.index(k) for k in keys], dtype=np.intp)
    cols = [[f[j] for f in fields] for j in range(3)]
    by_index = encode_bulk(KeyIndex(keys=distinct, index=index), *cols)
    assert by_index.tolist() == encode_bulk(keys, *cols).tolist()


def test_bulk_reproduces_the_shared_vectors() -> None:
    """Every keyed token vector, encoded in bulk per algorithm, matches the expected digits."""
    by_ea: dict[EA, list[Any]] = {}
    for p in params(_is_token_vector):
        v = p.values[0]
        key = _key(v)
        if key is not None:
            by_ea.setdefault(key.ea, []).append((key, v))
    assert set(by_ea) == {EA.STA, EA.MISTY1}
    for items in by_ea.values():
        keys = [k for k, _ in items]
        inp = [v["inputs"] for _, v in items]
        out = encode_bulk(
            keys,
            [i["token_class"] for i in inp],
            [i["subclass"] for i in inp],
            [_data44(i) for i in inp],
        )
        assert out.astype(str).tolist() == [v["expected"]["token"] for _, v in items]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, (1 << 66) - 1), min_size=1, max_size=20))
def test_digits_of_matches_format(values: list[int]) -> None:
    """Vectorised decimal formatting equals Python's for any 66-bit value."""
    hi = np.array([v >> 64 for v in values], dtype=np.uint64)
    lo = np.array([v & ((1 << 64) - 1) for v in values], dtype=np.uint64)
    got = digits_of(hi, lo).astype(str).tolist()
    assert got == [format_digits(v) for v in values]
    assert [parse_digits(d) for d in got] == values


def test_credit_bulk_rounds_up_like_scalar() -> None:
    """encode_credit_bulk rounds amounts up exactly as the scalar path does."""
    key = DecoderKey(bytes.fromhex("e653341f9d5bf36f"), EA.STA)
    units = [0, 1, 16383, 16384, 16385, 20000, 180215, 18201624]
    out = encode_credit_bulk([key] * len(units), [5] * len(units), units, 3).astype(str)
    from stsgas.sts import decode

    for digits, asked in zip(out, units, strict=True):
        got = decode(str(digits), key)
        assert isinstance(got, CreditToken)
        assert got.units >= asked


def test_credit_bulk_refuses_out_of_range() -> None:
    """Amounts above the 16-bit range or TIDs above 24 bits raise RangeError."""
    key = DecoderKey(bytes(8), EA.STA)
    with pytest.raises(RangeError):
        encode_credit_bulk([key], [1], [18201625])
    with pytest.raises(RangeError):
        encode_credit_bulk([key], [1 << 24], [1])
