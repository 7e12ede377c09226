"""The sale's SQL on asyncpg: :mod:`.pg`'s statements, on the event loop.

:mod:`.fast` runs sales on PostgreSQL without a worker thread, so its driver
must be async; asyncpg costs about a quarter of psycopg's CPU per statement
(``docs/benchmarks.md``). The statements are :mod:`.pg`'s (and
:mod:`.store_pg`'s) texts turned to ``$n`` parameters once each, and
:func:`.pg.answer` says which to run for each request of the pipeline, so
there is one SQL per step for both drivers. The lock-and-read also
authenticates: the bearer's token and operator come in the same statement,
and a token that does not exist locks nothing. Nothing here begins or commits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import asyncpg

from stsgas.vending.kit.pgraw import positional
from stsgas.vending.sales import ops
from stsgas.vending.sales.pg import Rows, answer


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


#: each statement text as asyncpg's, made on first use (the texts are module constants)
_STATEMENTS: dict[str, _Statement] = {}


class AsyncPgSaleStore:
    """:class:`.ops.AsyncSaleStore`: the statements of one sale on an asyncpg
    connection in a transaction."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def do(self, op: ops.Op) -> Any:
        """The answer to one of the sale's requests (``AfterSale``: nothing; the caller
        hands the receipt to its SMS after COMMIT)."""
        if isinstance(op, ops.AfterSale):
            return None
        plan = answer(op)
        try:
            query = next(plan)
            while True:
                query = plan.send(await self._fetch(*query))
        except StopIteration as done:
            return done.value

    async def _fetch(self, sql: str, params: dict[str, Any]) -> Rows:
        stmt = _STATEMENTS.get(sql)
        if stmt is None:
            stmt = _STATEMENTS[sql] = _Statement.of(sql)
        return [tuple(r) for r in await self.conn.fetch(stmt.sql, *stmt.args(params))]
