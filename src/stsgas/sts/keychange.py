"""The key-change rule both ends apply (meter on a complete set, vending before issuing).

Three things can go wrong with a complete key-change set, and each lets gas out
for free or bricks a meter, so the rule lives here once:

* ``same_key`` - the rollover bit (RO=1) tells the meter to forget every token
  it has used. That is only safe when the decoder key changes too: under an
  unchanged key every old token decrypts, passes its CRC, and is no longer
  remembered as used.
* ``key_type`` - a move to key type 0 (the initialisation key) from any other
  key type is refused; only a meter still on key type 0 may take another one.
* ``base_date`` - RO=1 moves the meter to the next base date
  (1993 -> 2014 -> 2035). There must be one, and it must already have begun,
  or tokens issued now could not be given a TID under it.

    >>> from datetime import datetime, UTC
    >>> check_key_change(old_key=b"A" * 8, new_key=b"B" * 8, old_kt=2, new_kt=2,
    ...     rollover=True, base_date=BaseDate.BD1993, now=datetime(2021, 6, 1, tzinfo=UTC))
    <BaseDate.BD2014: 2014>
"""

from __future__ import annotations

from datetime import UTC, datetime

from stsgas.sts.errors import KeyChangeReason, KeyChangeRefused
from stsgas.sts.tid import BaseDate

__all__ = [
    "KeyChangeReason",
    "KeyChangeRefused",
    "check_key_change",
    "check_keys",
    "next_base_date",
    "rollover_for",
]

_NEXT: dict[BaseDate, BaseDate | None] = {
    BaseDate.BD1993: BaseDate.BD2014,
    BaseDate.BD2014: BaseDate.BD2035,
    BaseDate.BD2035: None,
}


def next_base_date(current: BaseDate) -> BaseDate | None:
    """The base date a rollover (RO=1) moves to: 1993 -> 2014 -> 2035 -> None."""
    return _NEXT[BaseDate(current)]


def check_key_change(
    *,
    old_key: bytes,
    new_key: bytes,
    old_kt: int,
    new_kt: int,
    rollover: bool,
    base_date: BaseDate,
    now: datetime,
) -> BaseDate:
    """The one rule both ends apply to a complete key-change set.

    Returns the base date in force after the set. Raises
    :class:`KeyChangeRefused` with ``reason``:

    - ``"same_key"``: RO=1 (which clears the used-token memory) while the
      decoder key does not change - every old token would work again;
    - ``"key_type"``: a change to key type 0 from a non-zero key type, or a
      key type outside 0..3;
    - ``"base_date"``: RO=1 but there is no later base date, or the next base
      date is still in the future at ``now`` (tokens could not be dated).
    """
    check_keys(old_key=old_key, new_key=new_key, old_kt=old_kt, new_kt=new_kt, rollover=rollover)
    if not rollover:
        return BaseDate(base_date)
    target = next_base_date(base_date)
    if target is None:
        raise KeyChangeRefused("base_date", f"no base date after {int(base_date)}")
    if _utc(now) < target.start:
        raise KeyChangeRefused("base_date", f"base date {int(target)} has not begun yet")
    return target


def check_keys(*, old_key: bytes, new_key: bytes, old_kt: int, new_kt: int, rollover: bool) -> None:
    """The time-free half of :func:`check_key_change` (key type and same key).

    The vending side runs it when it builds a set (``key_change_tokens``),
    where the base-date step is checked by :func:`rollover_for` instead.
    """
    if not (0 <= new_kt <= 3 and 0 <= old_kt <= 3):
        raise KeyChangeRefused("key_type", f"key type {new_kt} is not 0..3")
    if new_kt == 0 and old_kt != 0:
        raise KeyChangeRefused("key_type", f"a meter on key type {old_kt} may not go back to 0")
    if rollover and bytes(old_key) == bytes(new_key):
        raise KeyChangeRefused("same_key", "RO=1 clears the used-token memory; the key must change")


def rollover_for(old_bd: BaseDate, new_bd: BaseDate) -> bool:
    """Vending side: the RO bit a key change from ``old_bd`` to ``new_bd`` must carry.

    False when equal; True when ``new_bd`` is ``next_base_date(old_bd)``.
    Raises ``KeyChangeRefused("base_date")`` for any other move (backwards,
    or skipping a base date), because a meter only ever steps forward by one.
    """
    old, new = BaseDate(old_bd), BaseDate(new_bd)
    if old == new:
        return False
    if next_base_date(old) == new:
        return True
    raise KeyChangeRefused("base_date", f"a meter cannot move from {int(old)} to {int(new)}")


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    return at.astimezone(UTC)
