"""Property tests of the codec: round trips, bit flips, amount rounding, digits and TIDs."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from stsgas.sts import (
    CURRENCY_UNIT,
    EA,
    GAS_UNIT,
    TID_MAX,
    BaseDate,
    CrcError,
    DecoderKey,
    MeterConfig,
    StsError,
    Token,
    TokenFormatError,
    credit_token,
    credit_token_at_tid,
    datetime_for_tid,
    decode,
    decode_amount16,
    decode_currency,
    encode,
    encode_amount16,
    encode_currency,
    format_digits,
    parse_digits,
    tid_for,
)
from stsgas.sts.amount import AMOUNT16_MAX, CURRENCY_MAX
from stsgas.sts.digits import transpose, untranspose
from stsgas.sts.vend import credit_currency

from . import strategies as strat

PROPS = settings(max_examples=150, deadline=None)


@st.composite
def key_and_token(draw: st.DrawFn) -> tuple[DecoderKey, Token]:
    ea = draw(strat.eas)
    return draw(strat.keys(ea)), draw(strat.tokens_for(ea))


@PROPS
@given(key_and_token())
def test_encode_decode_round_trip(pair: tuple[DecoderKey, Token]) -> None:
    """decode(encode(t)) == t for every class, subclass and algorithm."""
    key, token = pair
    digits = encode(token, key)
    assert len(digits) == 20
    assert digits.isdigit()
    assert decode(digits, key) == token


@PROPS
@given(key_and_token())
def test_single_bit_flip_never_gives_the_same_token(pair: tuple[DecoderKey, Token]) -> None:
    """Each of the 66 single-bit flips is rejected or decodes to a different token."""
    key, token = pair
    t66 = parse_digits(encode(token, key))
    for bit in range(66):
        try:
            other = decode(format_digits(t66 ^ (1 << bit)), key)
        except StsError:
            continue
        assert other != token


@PROPS
@given(strat.test_tokens)
def test_single_bit_flips_of_unencrypted_tokens_all_fail_crc(token: Token) -> None:
    """Class 1 blocks are in the clear, so CRC-16 catches every single-bit error."""
    t66 = parse_digits(encode(token, DecoderKey(bytes(8), EA.STA)))
    for bit in range(66):
        flipped = t66 ^ (1 << bit)
        if (flipped >> 27) & 3 == 1:  # still class 1: the CRC must catch it
            try:
                decode(format_digits(flipped), None)
            except CrcError:
                continue
            raise AssertionError(f"bit {bit} flip passed the CRC")


def test_single_digit_edits_are_caught() -> None:
    """All 180 one-digit edits of a credit token are rejected (format or CRC) under its key."""
    key = DecoderKey(bytes.fromhex("e653341f9d5bf36f"), EA.STA)
    digits = "23716100501183194197"
    accepted = 0
    for pos in range(20):
        for d in "0123456789":
            if d == digits[pos]:
                continue
            try:
                decode(digits[:pos] + d + digits[pos + 1 :], key)
            except (CrcError, TokenFormatError):
                continue
            accepted += 1
    assert accepted == 0


@PROPS
@given(st.integers(0, AMOUNT16_MAX), st.integers(0, AMOUNT16_MAX))
def test_amount16_rounds_up_monotone_and_tight(a: int, b: int) -> None:
    """Encoding never credits less, keeps order, and picks the smallest value ≥ the request."""
    ca, cb = decode_amount16(encode_amount16(a)), decode_amount16(encode_amount16(b))
    assert ca >= a
    assert cb >= b
    if a <= b:
        assert ca <= cb
    field = encode_amount16(a)
    if field & 0x3FFF:  # the next lower field value is below the request
        assert decode_amount16(field - 1) < a


@PROPS
@given(st.integers(-CURRENCY_MAX, CURRENCY_MAX), st.integers(-CURRENCY_MAX, CURRENCY_MAX))
def test_currency_rounding_direction_and_order(a: int, b: int) -> None:
    """Positive amounts round up, negative magnitudes round down, and order is kept."""
    ca, cb = decode_currency(*encode_currency(a)), decode_currency(*encode_currency(b))
    if a >= 0:
        assert ca >= a
    else:
        assert a <= ca <= 0
    if a <= b:
        assert ca <= cb


@PROPS
@given(st.decimals(min_value=Decimal("-1e6"), max_value=Decimal(0), places=8))
def test_negative_currency_credit_never_takes_more_than_asked(amount: Decimal) -> None:
    """A negative amount finer than 10^-5 is taken to at most its magnitude (a
    cancellation's take-back token never takes more than the sale gave)."""
    taken = credit_currency(amount)
    assert Decimal(taken) / 100_000 >= amount
    assert taken <= 0


@PROPS
@given(st.integers(0, CURRENCY_MAX))
def test_a_credited_currency_amount_is_taken_back_exactly(a: int) -> None:
    """The negative of any amount a currency token credited encodes exactly."""
    credited = decode_currency(*encode_currency(a))
    assert decode_currency(*encode_currency(-credited)) == -credited


@settings(max_examples=300, deadline=None)
@given(st.integers(0, (1 << 66) - 1), st.integers(0, 3))
def test_digits_and_transposition_round_trip(t66: int, cls: int) -> None:
    """Any 66-bit value survives the 20-digit text; transposition is invertible."""
    assert parse_digits(format_digits(t66)) == t66
    enc = t66 & ((1 << 64) - 1)
    assert untranspose(transpose(enc, cls)) == (cls, enc)


@PROPS
@given(strat.base_dates.flatmap(lambda bd: st.tuples(st.just(bd), strat.issue_times(bd))))
def test_tid_round_trips_through_issue_time(pair: tuple[BaseDate, object]) -> None:
    """tid_for and datetime_for_tid are inverse, except the reserved 00:01 minute."""
    bd, at = pair
    tid = tid_for(at, bd)  # type: ignore[arg-type]
    back = datetime_for_tid(tid, bd)
    if (at.hour, at.minute) == (0, 1):  # type: ignore[attr-defined]
        assert back == at + timedelta(minutes=1)  # type: ignore[operator]
    else:
        assert back == at
    assert 0 <= tid <= TID_MAX


METERS = {
    (ea, bd): MeterConfig.from_json(
        {
            "pan": "600727000000000009",
            "sgc": "123456",
            "ti": "01",
            "krn": 1,
            "base_date": int(bd),
            "ea": f"{int(ea):02d}",
            **(
                {"dkga": "04", "vending_key": "ab" * 8 + "94" * 8 + "01234567"}
                if ea is EA.MISTY1
                else {"dkga": "02", "vending_key": "ab" * 8}
            ),
        }
    )
    for ea in EA
    for bd in BaseDate
}


def _draw_credit(
    which: tuple[EA, BaseDate], data: st.DataObject
) -> tuple[MeterConfig, BaseDate, datetime, int]:
    """A meter of the algorithm and base date, an issue time it can encode, a
    credit subclass (2: gas units, 6: currency)."""
    _ea, bd = which
    at = data.draw(strat.issue_times(bd))
    return METERS[which], bd, at, data.draw(st.sampled_from([2, 6]))


@PROPS
@given(st.sampled_from(sorted(METERS)), st.data())
def test_credit_recipe_round_trip_every_algorithm_and_base_date(
    which: tuple[EA, BaseDate], data: st.DataObject
) -> None:
    """credit_token → decode gives back the TID of the issue time and the credited amount."""
    meter, bd, at, subclass = _draw_credit(which, data)
    if subclass == 2:
        amount = Decimal(data.draw(st.integers(0, AMOUNT16_MAX))) / 10
    else:
        amount = Decimal(data.draw(st.integers(0, 10**12))) / 100_000
    issued = credit_token(meter, amount, at=at, subclass=subclass)
    token = decode(issued.digits, meter.key())
    assert getattr(token, "tid", None) == tid_for(at, bd) == issued.tid
    assert issued.amount is not None
    assert issued.amount >= amount
    scale = Decimal(10) if subclass == 2 else Decimal(100_000)
    got = (token.units if subclass == 2 else token.amount) / scale  # type: ignore[union-attr]
    assert got == issued.amount


@PROPS
@given(st.sampled_from(sorted(METERS)), st.data())
def test_credit_at_tid_gives_the_same_token_as_credit_at_its_time(
    which: tuple[EA, BaseDate], data: st.DataObject
) -> None:
    """A vending system that picks the TID itself gets the token the timed recipe gives."""
    meter, bd, at, subclass = _draw_credit(which, data)
    unit = GAS_UNIT if subclass == 2 else CURRENCY_UNIT
    amount = data.draw(st.integers(0, AMOUNT16_MAX)) * unit
    rnd = data.draw(st.integers(0, 15)) if subclass == 2 else 0
    timed = credit_token(meter, amount, at=at, rnd=rnd, subclass=subclass)
    direct = credit_token_at_tid(meter, amount, tid=tid_for(at, bd), rnd=rnd, subclass=subclass)
    assert direct == timed
