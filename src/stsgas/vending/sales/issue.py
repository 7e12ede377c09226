"""Making tokens for a meter: its key data, the next TID, key changes, token rows.

Shared by sales, cancellations (clear credit) and management tokens; nothing
here commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session

from stsgas.sts import (
    BaseDate,
    IssuedToken,
    MeterConfig,
    key_change_tokens,
    tid_for,
)
from stsgas.vending.errors import KeyExpired
from stsgas.vending.keys import rules as key_rules
from stsgas.vending.keys.security import MeterKeyData, SecurityModule
from stsgas.vending.meters.repository import MeterRepository
from stsgas.vending.models import Meter, Token
from stsgas.vending.sales.rows import LockedMeter

_MINUTES_PER_DAY = 1440


class _Group(Protocol):
    """A supply group's key columns (an ORM ``SupplyGroup`` or a :class:`GroupRow`)."""

    @property
    def id(self) -> int: ...
    @property
    def sgc(self) -> str: ...
    @property
    def krn(self) -> int: ...
    @property
    def key_type(self) -> int: ...
    @property
    def ea(self) -> int: ...
    @property
    def dkga(self) -> int: ...
    @property
    def vending_key_enc(self) -> bytes: ...
    @property
    def is_active(self) -> bool: ...
    @property
    def key_expires_at(self) -> datetime | None: ...


class _MeterKeys(Protocol):
    """A meter's own key data (an ORM ``Meter`` or a :class:`LockedMeter`)."""

    @property
    def pan(self) -> str: ...
    @property
    def ti(self) -> str: ...
    @property
    def base_date(self) -> int: ...
    @property
    def ken(self) -> int: ...


def key_data(
    meter: _MeterKeys, group: _Group, *, ti: str, base_date: int, ken: int
) -> MeterKeyData:
    return MeterKeyData(
        pan=meter.pan,
        key_type=group.key_type,
        sgc=group.sgc,
        ti=ti,
        krn=group.krn,
        ken=ken,
        base_date=base_date,
        ea=group.ea,
        dkga=group.dkga,
    )


def own_key_data(meter: _MeterKeys, group: _Group) -> MeterKeyData:
    """The meter's key data as it stands: its own TI, base date and KEN under ``group``."""
    return key_data(meter, group, ti=meter.ti, base_date=meter.base_date, ken=meter.ken)


def _own_config(meter: _MeterKeys, group: _Group, security: SecurityModule) -> MeterConfig:
    return security.meter_config(own_key_data(meter, group), group.vending_key_enc)


def _current_config(
    meter: _MeterKeys, group: _Group, security: SecurityModule, now: datetime
) -> MeterConfig:
    """The config tokens are made under when the meter's key stays as it is; a retired
    or expired group key raises :class:`KeyExpired`."""
    _check_key(group, now)
    return _own_config(meter, group, security)


def _check_key(group: _Group, now: datetime) -> None:
    if not group.is_active or (group.key_expires_at is not None and group.key_expires_at <= now):
        raise KeyExpired(f"the vending key of supply group {group.sgc}/{group.krn} has expired")


class _TidState(Protocol):
    @property
    def base_date(self) -> int: ...
    @property
    def last_tid(self) -> int: ...


def next_tid(meter: _TidState, now: datetime) -> int:
    """The issue minute, or the meter's last TID + 1 when that is not larger
    (skipping the reserved 00:01 minute)."""
    tid = tid_for(now, BaseDate(meter.base_date))
    if tid <= meter.last_tid:
        tid = meter.last_tid + 1
        if tid % _MINUTES_PER_DAY == 1:
            tid += 1
    return tid


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyPlan:
    """A checked key change: the configs before and after, and what the meter records."""

    old: MeterConfig
    new: MeterConfig
    group_id: int
    ti: str
    base_date: int
    ken: int
    rollover: bool

    def tokens(self) -> list[IssuedToken]:
        """The key change tokens, made under the old key."""
        return key_change_tokens(self.old, self.new, rollover=self.rollover)

    def last_tid(self, before: int) -> int:
        """The meter's last TID after the move: RO=1 clears the meter's TID memory."""
        return 0 if self.rollover else before


def plan_move(
    meter: _MeterKeys,
    old_group: _Group,
    new_group: _Group,
    security: SecurityModule,
    now: datetime,
    *,
    new_ken: int,
    ti: str | None,
    base_date: int | None,
) -> KeyPlan:
    """Check the move of ``meter`` from ``old_group`` to ``new_group`` (KEN
    ``new_ken``) and the given TI and base date (None: keep) by the one key-change
    rule (``keys.rules``): a refused set (same key with RO=1, key type 0, a base
    date it cannot move to) raises a ``key_change_*`` problem. RO=1 exactly when
    the base date steps forward. Nothing here reads a database."""
    old = _own_config(meter, old_group, security)
    _check_key(new_group, now)
    ti = ti or meter.ti
    base_date = base_date or meter.base_date
    ken = new_ken if new_group.id != old_group.id else meter.ken
    new = security.meter_config(
        key_data(meter, new_group, ti=ti, base_date=base_date, ken=ken),
        new_group.vending_key_enc,
    )
    return KeyPlan(
        old=old,
        new=new,
        group_id=new_group.id,
        ti=ti,
        base_date=base_date,
        ken=ken,
        rollover=key_rules.checked_rollover(old, new, now),
    )


def plan_key_change(
    session: Session,
    meter: Meter,
    security: SecurityModule,
    now: datetime,
    *,
    group_id: int | None,
    ti: str | None,
    base_date: int | None,
) -> KeyPlan:
    """:func:`plan_move` of an ORM meter to the given key data (None: keep)."""
    repo = MeterRepository(session)
    old_group = repo.supply_group(meter.supply_group_id)
    new_group = repo.supply_group(group_id) if group_id is not None else old_group
    return plan_move(
        meter,
        old_group,
        new_group,
        security,
        now,
        new_ken=new_group.ken,
        ti=ti,
        base_date=base_date,
    )


def apply_key_change(
    session: Session, meter: Meter, security: SecurityModule, now: datetime
) -> tuple[MeterConfig, list[IssuedToken]]:
    """Move the meter's key data to its pending target; returns the new config and
    the key change tokens (made under the old key). No-op when nothing is pending.

    The move is checked first (:func:`plan_key_change`); refused, nothing moves.
    With RO=1 the meter forgets its used TIDs, so the TID count starts again
    under the new base date, which the meter's record now carries."""
    if not meter.needs_key_change:
        old_group = MeterRepository(session).supply_group(meter.supply_group_id)
        return _current_config(meter, old_group, security, now), []
    plan = plan_key_change(
        session,
        meter,
        security,
        now,
        group_id=meter.pending_supply_group_id,
        ti=meter.pending_ti,
        base_date=meter.pending_base_date,
    )
    kcts = plan.tokens()
    meter.last_tid = plan.last_tid(meter.last_tid)
    meter.supply_group_id = plan.group_id
    meter.ti, meter.base_date, meter.ken = plan.ti, plan.base_date, plan.ken
    meter.pending_supply_group_id = None
    meter.pending_ti = None
    meter.pending_base_date = None
    return plan.new, kcts


def store_tokens(
    session: Session,
    issued: list[tuple[str, IssuedToken]],
    *,
    meter_id: int,
    sale_id: int | None = None,
    request_id: int | None = None,
    now: datetime,
) -> list[Token]:
    """Insert issued tokens in entry order (the ORM way: management tokens, cancels)."""
    rows = [
        Token(
            sale_id=sale_id,
            management_request_id=request_id,
            meter_id=meter_id,
            kind=t.kind,
            sequence=t.sequence,
            token_class=t.token_class,
            subclass=t.subclass,
            tid=t.tid,
            amount=t.amount,
            digits=t.digits,
            created_at=now,
        )
        for t in issued_rows(issued)
    ]
    session.add_all(rows)
    return rows


@dataclass(frozen=True, slots=True, kw_only=True)
class IssuedRow:
    """A token as stored and shown on the receipt."""

    sequence: int
    kind: str
    token_class: int
    subclass: int
    tid: int | None
    amount: int | None
    digits: str


def issued_rows(issued: list[tuple[str, IssuedToken]]) -> list[IssuedRow]:
    rows = []
    for seq, (kind, it) in enumerate(issued, start=1):
        tok = it.token
        amount = getattr(tok, "units", None)
        if amount is None:
            amount = getattr(tok, "amount", None)
        rows.append(
            IssuedRow(
                sequence=seq,
                kind=kind,
                token_class=tok.token_class,
                subclass=tok.subclass,
                tid=it.tid,
                amount=amount,
                digits=it.digits,
            )
        )
    return rows


def group_config(meter: LockedMeter, security: SecurityModule, now: datetime) -> MeterConfig:
    """:func:`_current_config` of a locked meter under the group read with it."""
    return _current_config(meter, meter.group, security, now)
