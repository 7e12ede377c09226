"""The sale's SQL on asyncpg: the same statements as :mod:`.store_pg`, on the event loop.

:mod:`.fast` runs the common sale on PostgreSQL without a worker thread, so
its driver must be async; asyncpg costs about a quarter of psycopg's CPU per
statement (``docs/benchmarks.md``). The statements are :mod:`.store_pg`'s
texts turned to ``$n`` parameters, so there is one SQL per step. The read here
also authenticates: the bearer's token and operator come in the same
statement, and a token that does not exist locks nothing (the meter is read
in a lateral join of the token row). Nothing here begins or commits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

import asyncpg

from stsgas.vending.kit.pgraw import positional
from stsgas.vending.operators.repository import PRINCIPAL_SQL, SELLER_SQL, PrincipalRow
from stsgas.vending.sales import store_pg
from stsgas.vending.sales.rows import LockedMeter, SaleWrite, Written

_PRINCIPAL_COLUMNS = len(fields(PrincipalRow))
_AUTH_LOCK = "WITH p AS ({principal}) SELECT p.*, x.* FROM p LEFT JOIN LATERAL ({lock}) x ON true"


@dataclass(frozen=True, slots=True)
class _Statement:
    sql: str
    names: tuple[str, ...]

    @classmethod
    def of(cls, sql: str) -> _Statement:
        text, names = positional(sql)
        return cls(text, names)

    def args(self, params: Mapping[str, Any]) -> list[Any]:
        return [params[n] for n in self.names]


#: store_pg's lock statement behind the bearer's token row; the replay it looks for is
#: among the bearer's own sales (``p.id``: idempotency keys are per operator)
_AUTH_LOCK_STMT = _Statement.of(
    _AUTH_LOCK.format(
        principal=PRINCIPAL_SQL, lock=store_pg.LOCK.replace("%(operator_id)s", "p.id")
    )
)
#: the same behind a named operator's row (a sale paid by mobile money: ``payments``)
_SELLER_LOCK_STMT = _Statement.of(
    _AUTH_LOCK.format(principal=SELLER_SQL, lock=store_pg.LOCK.replace("%(operator_id)s", "p.id"))
)
_WRITE = _Statement.of(store_pg.WRITE)
_MONTH_UNITS = _Statement.of(store_pg.MONTH_UNITS)


@dataclass(frozen=True, slots=True, kw_only=True)
class Seller:
    """Who a sale is made as: the bearer of an API token (its hash), or an active
    operator named in the configuration (a sale paid by mobile money)."""

    token_hash: str | None = None
    username: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthLocked:
    """What the read found: the bearer's operator (None: no such token) and the
    locked meter (None: no such meter, or a DRN that names several)."""

    principal: PrincipalRow | None
    meter: LockedMeter | None


class AsyncPgSaleStore:
    """The statements of one sale on an asyncpg connection in a transaction."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def lock(
        self,
        seller: Seller,
        number: str,
        *,
        channel: str,
        key: str | None,
        now: datetime,
        month_start: datetime,
    ) -> AuthLocked:
        """Find the seller, then find and lock the meter and read the rest: one statement."""
        params = store_pg.lock_params(
            number, channel=channel, key=key, now=now, month_start=month_start
        )
        if seller.token_hash is not None:
            params["token_hash"] = seller.token_hash
            return await self._lock(_AUTH_LOCK_STMT, params, month_start)
        params["username"] = seller.username
        return await self._lock(_SELLER_LOCK_STMT, params, month_start)

    async def _lock(
        self, stmt: _Statement, params: dict[str, Any], month_start: datetime
    ) -> AuthLocked:
        rows: Sequence[Any] = await self.conn.fetch(stmt.sql, *stmt.args(params))
        if not rows:
            return AuthLocked(principal=None, meter=None)
        principal = PrincipalRow(*tuple(rows[0])[:_PRINCIPAL_COLUMNS])
        meter_cols = tuple(rows[0])[_PRINCIPAL_COLUMNS:]
        if len(rows) != 1 or meter_cols[0] is None:
            return AuthLocked(principal=principal, meter=None)
        meter = store_pg.locked_from_row(meter_cols)
        if meter.month_units_stale:
            row = await self.conn.fetchrow(
                _MONTH_UNITS.sql,
                *_MONTH_UNITS.args({"meter_id": meter.id, "month_start": month_start}),
            )
            assert row is not None
            meter = store_pg.with_month_units(meter, tuple(row))
        return AuthLocked(principal=principal, meter=meter)

    async def write_sale(self, w: SaleWrite) -> Written:
        """All the sale's writes in one statement."""
        row = await self.conn.fetchrow(_WRITE.sql, *_WRITE.args(store_pg.write_params(w)))
        assert row is not None
        return store_pg.written_from_row(tuple(row), w)
