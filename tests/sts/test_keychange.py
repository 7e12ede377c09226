"""The key-change rule (stsgas.sts.keychange): the one place both ends ask."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import stsgas.sts as sts
from stsgas.sts import (
    BaseDate,
    KeyChangeRefused,
    StsError,
    check_key_change,
    next_base_date,
    rollover_for,
)

DATA = json.loads((Path(__file__).parent.parent / "data/sts/keychange.json").read_text("utf-8"))
key_types = st.integers(0, 3)
key_bytes = st.binary(min_size=8, max_size=8)
times = st.datetimes(
    min_value=datetime(1993, 1, 1), max_value=datetime(2066, 1, 1), timezones=st.just(UTC)
)


def _check(case: dict[str, Any]) -> BaseDate:
    return check_key_change(
        old_key=bytes.fromhex(case["old_key"]),
        new_key=bytes.fromhex(case["new_key"]),
        old_kt=case["old_kt"],
        new_kt=case["new_kt"],
        rollover=case["rollover"],
        base_date=BaseDate(case["base_date"]),
        now=datetime.fromisoformat(case["now"]),
    )


@pytest.mark.parametrize("case", DATA["cases"], ids=lambda c: c["why"])
def test_check_key_change(case: dict[str, Any]) -> None:
    """Each listed set gets the base date in force after it, or its refusal reason."""
    if "refused" in case:
        with pytest.raises(KeyChangeRefused) as info:
            _check(case)
        assert info.value.reason == case["refused"]
        assert info.value.code == "key_change"
        assert info.value.status == 5
        assert case["old_key"] not in str(info.value)  # never echo key material
    else:
        assert _check(case) == BaseDate(case["result"])


@pytest.mark.parametrize("case", DATA["rollover_for"], ids=lambda c: f"{c['old']}->{c['new']}")
def test_rollover_for(case: dict[str, Any]) -> None:
    """Vending asks which RO bit a base-date move needs; only one step forward is a move."""
    old, new = BaseDate(case["old"]), BaseDate(case["new"])
    if "refused" in case:
        with pytest.raises(KeyChangeRefused) as info:
            rollover_for(old, new)
        assert info.value.reason == case["refused"]
    else:
        assert rollover_for(old, new) is case["ro"]


def test_next_base_date_chain() -> None:
    """1993 -> 2014 -> 2035 -> None, and the package exports the rule."""
    assert next_base_date(BaseDate.BD1993) is BaseDate.BD2014
    assert next_base_date(BaseDate.BD2014) is BaseDate.BD2035
    assert next_base_date(BaseDate.BD2035) is None
    assert sts.keychange.KeyChangeRefused is KeyChangeRefused
    assert issubclass(KeyChangeRefused, StsError)


def test_naive_now_is_refused() -> None:
    """Time is UTC and injected; a naive `now` is a programming error, not a silent guess."""
    with pytest.raises(ValueError):
        check_key_change(
            old_key=b"1" * 8,
            new_key=b"2" * 8,
            old_kt=2,
            new_kt=2,
            rollover=True,
            base_date=BaseDate.BD1993,
            now=datetime(2021, 1, 1),
        )


@given(
    key=key_bytes, old_kt=key_types, new_kt=key_types, bd=st.sampled_from(list(BaseDate)), now=times
)
def test_rollover_never_keeps_the_key(
    key: bytes, old_kt: int, new_kt: int, bd: BaseDate, now: datetime
) -> None:
    """No set with RO=1 and an unchanged key is ever accepted (it would reopen used tokens)."""
    with pytest.raises(KeyChangeRefused):
        check_key_change(
            old_key=key,
            new_key=key,
            old_kt=old_kt,
            new_kt=new_kt,
            rollover=True,
            base_date=bd,
            now=now,
        )


def _outcome(**kwargs: Any) -> BaseDate | str:
    """The base date after the set, or the refusal reason."""
    try:
        return check_key_change(**kwargs)
    except KeyChangeRefused as refused:
        return refused.reason


def _ro_outcome(old: BaseDate, new: BaseDate) -> bool | str:
    try:
        return rollover_for(old, new)
    except KeyChangeRefused as refused:
        return refused.reason


@given(
    old=key_bytes,
    new=key_bytes,
    old_kt=key_types,
    new_kt=key_types,
    ro=st.booleans(),
    bd=st.sampled_from(list(BaseDate)),
    now=times,
)
def test_accepted_sets_obey_every_rule(
    old: bytes, new: bytes, old_kt: int, new_kt: int, ro: bool, bd: BaseDate, now: datetime
) -> None:
    """Whatever is accepted: KT 0 only from KT 0, RO=1 means a new key and exactly one
    base-date step that has begun; RO=0 keeps the base date. Refusals name one of three reasons."""
    after = _outcome(
        old_key=old, new_key=new, old_kt=old_kt, new_kt=new_kt, rollover=ro, base_date=bd, now=now
    )
    if isinstance(after, str):
        assert after in ("same_key", "key_type", "base_date")
        return
    assert new_kt != 0 or old_kt == 0
    if ro:
        assert old != new
        assert after == next_base_date(bd)
        assert after.start <= now
        assert rollover_for(bd, after) is True
    else:
        assert after == bd
        assert rollover_for(bd, after) is False


@given(old=st.sampled_from(list(BaseDate)), new=st.sampled_from(list(BaseDate)))
def test_rollover_for_agrees_with_next_base_date(old: BaseDate, new: BaseDate) -> None:
    """The RO bit the vending side puts on a set moves the meter to exactly the new base date."""
    ro = _ro_outcome(old, new)
    if isinstance(ro, str):
        assert ro == "base_date"
        assert new not in (old, next_base_date(old))
    else:
        assert (next_base_date(old) if ro else old) == new


@given(
    bd=st.sampled_from([BaseDate.BD1993, BaseDate.BD2014]),
    minutes=st.integers(-10_000_000, 10_000_000),
)
def test_rollover_waits_for_the_next_base_date(bd: BaseDate, minutes: int) -> None:
    """RO=1 is accepted exactly from the first minute of the next base date on."""
    target = next_base_date(bd)
    assert target is not None
    after = _outcome(
        old_key=b"\x01" * 8,
        new_key=b"\x02" * 8,
        old_kt=2,
        new_kt=2,
        rollover=True,
        base_date=bd,
        now=target.start + timedelta(minutes=minutes),
    )
    assert after == (target if minutes >= 0 else "base_date")


#: a DKGA02 meter (test data file shared by the sts tests)
_METER: dict[str, Any] = json.loads(
    (Path(__file__).parent.parent / "data/sts/meter-dkga02.json").read_text("utf-8")
)


def _cfg(**over: Any) -> sts.MeterConfig:
    return sts.MeterConfig.from_json({**_METER, **over})


def test_vending_never_builds_a_set_the_meter_must_refuse() -> None:
    """key_change_tokens applies the same rule: a DKGA02 move to a new base date with the same
    key (same KRN, SGC, TI) is refused, a new KRN makes it valid and sets RO=1."""
    with pytest.raises(KeyChangeRefused) as info:
        sts.key_change_tokens(_cfg(), _cfg(base_date=2014))
    assert info.value.reason == "same_key"
    kcts = sts.key_change_tokens(_cfg(), _cfg(base_date=2014, krn=2))
    first = kcts[0].token
    assert isinstance(first, sts.KeyChange1)
    assert first.rollover is True


@pytest.mark.parametrize(
    ("over", "rollover", "reason"),
    [
        ({"base_date": 2035, "krn": 2}, None, "base_date"),  # skips 2014
        ({"krn": 2}, True, "base_date"),  # RO=1 but the base date stays
        ({"base_date": 2014, "krn": 2}, False, "base_date"),  # moves without RO
        ({"key_type": 0, "krn": 2}, None, "key_type"),  # back to the initialisation key
    ],
)
def test_key_change_tokens_refusals(
    over: dict[str, Any], rollover: bool | None, reason: str
) -> None:
    """Each wrong set is refused with the reason the meter would give."""
    with pytest.raises(KeyChangeRefused) as info:
        sts.key_change_tokens(_cfg(), _cfg(**over), rollover=rollover)
    assert info.value.reason == reason
