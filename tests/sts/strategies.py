"""Hypothesis strategies for STS values: keys, tokens and meter configs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import strategies as st

from stsgas.sts import (
    EA,
    TID_MAX,
    BaseDate,
    ClearCredit,
    ClearTamper,
    CreditToken,
    CurrencyCreditToken,
    DecoderKey,
    ExtendedToken,
    KeyChange1,
    KeyChange2,
    KeyChange3,
    KeyChange3Sgc,
    KeyChange4,
    MaxPhasePowerUnbalance,
    MaxPowerLimit,
    ReservedToken,
    TariffRate,
    TestToken,
    Token,
    WaterMeterFactor,
    decode_amount16,
    decode_currency,
)

eas = st.sampled_from(list(EA))
base_dates = st.sampled_from(list(BaseDate))
tids = st.integers(0, TID_MAX)
rnds = st.integers(0, 15)
u16 = st.integers(0, 0xFFFF)
u32 = st.integers(0, 0xFFFFFFFF)


def keys(ea: EA | None = None) -> st.SearchStrategy[DecoderKey]:
    """A random decoder key for ``ea`` (or for a random algorithm)."""
    algos = st.just(ea) if ea is not None else eas
    return algos.flatmap(
        lambda a: st.binary(min_size=a.key_bytes, max_size=a.key_bytes).map(
            lambda raw: DecoderKey(raw, a)
        )
    )


# amounts drawn from their 16-bit fields, so every drawn value is exactly representable
units = u16.map(decode_amount16)
currency = st.tuples(u16, rnds).map(lambda p: decode_currency(*p))

register_tokens: st.SearchStrategy[Token] = st.one_of(
    st.builds(CreditToken, subclass=st.integers(0, 3), tid=tids, units=units, rnd=rnds),
    st.builds(CurrencyCreditToken, subclass=st.integers(4, 7), tid=tids, amount=currency),
    st.builds(MaxPowerLimit, tid=tids, rnd=rnds, watts=units),
    st.builds(ClearCredit, tid=tids, rnd=rnds, register=u16),
    st.builds(TariffRate, tid=tids, rnd=rnds, rate=u16),
    st.builds(ClearTamper, tid=tids, rnd=rnds),
    st.builds(MaxPhasePowerUnbalance, tid=tids, rnd=rnds, watts=units),
    st.builds(WaterMeterFactor, tid=tids, rnd=rnds, factor=u16),
    st.builds(
        ExtendedToken, tid=tids, rnd=rnds, index=st.integers(0, 63), value=st.integers(0, 1023)
    ),
)

key_change_common: st.SearchStrategy[Token] = st.one_of(
    st.builds(
        KeyChange1,
        ken_high=rnds,
        krn=rnds,
        rollover=st.booleans(),
        three_token=st.booleans(),
        key_type=st.integers(0, 3),
        nk_high=u32,
    ),
    st.builds(KeyChange2, ken_low=rnds, ti=st.integers(0, 255), nk_low=u32),
    st.builds(KeyChange4, sgc_high=st.integers(0, 0xFFF), nk_part=u32),
)

test_tokens: st.SearchStrategy[Token] = st.one_of(
    st.builds(
        TestToken,
        subclass=st.just(0),
        control=st.integers(0, (1 << 36) - 1),
        mfr_code=st.integers(0, 255),
    ),
    st.builds(TestToken, subclass=st.just(1), control=st.integers(0, (1 << 28) - 1), mfr_code=u16),
    st.builds(TestToken, subclass=st.just(2), control=st.integers(0, (1 << 44) - 1)),
)

reserved = st.builds(
    ReservedToken, token_class=st.just(3), subclass=rnds, data=st.integers(0, (1 << 44) - 1)
)


def tokens_for(ea: EA) -> st.SearchStrategy[Token]:
    """Every token class and subclass that can be encrypted under ``ea``."""
    kct3 = (
        st.builds(KeyChange3, sgc_low=st.integers(0, 0xFFF), nk_part=u32)
        if ea is EA.MISTY1
        else st.builds(KeyChange3Sgc, sgc=st.integers(0, (1 << 24) - 1))
    )
    return st.one_of(register_tokens, key_change_common, kct3, test_tokens, reserved)


def issue_times(base_date: BaseDate) -> st.SearchStrategy[datetime]:
    """An aware UTC minute inside the base date's TID range."""
    return st.integers(0, TID_MAX).map(
        lambda m: (base_date.start + timedelta(minutes=m)).astimezone(UTC)
    )
