"""The generic plan PostgreSQL makes of one of the sale's statements, as the sale pool
runs them (``plan_cache_mode = force_generic_plan``: planned once per connection)."""

from __future__ import annotations

from datetime import datetime

import psycopg
from sqlalchemy import Engine

from stsgas.vending.db import make_sessionmaker
from stsgas.vending.kit.pgraw import positional

#: the PostgreSQL type of each parameter, as the drivers send them
_TYPES = {str: "text", int: "bigint", datetime: "timestamptz", type(None): "text", bool: "bool"}


def generic_plan(engine: Engine, sql: str, params: dict[str, object]) -> str:
    """``EXPLAIN`` of ``sql`` (psycopg ``%(name)s`` style) prepared with a generic plan."""
    body, names = positional(sql)
    with make_sessionmaker(engine).begin() as s:
        conn = s.connection()
        conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_generic_plan")
        types = ", ".join(_TYPES[type(params[n])] for n in names)
        conn.exec_driver_sql(f"PREPARE planned ({types}) AS {body}")
        driver = conn.connection.driver_connection
        assert driver is not None
        values = [params[n] for n in names]
        with psycopg.ClientCursor(driver) as cur:  # the values inlined, as EXECUTE wants
            holders = ", ".join(["%s"] * len(values))
            cur.execute(f"EXPLAIN EXECUTE planned({holders})", values)
            rows = cur.fetchall()
        conn.exec_driver_sql("DEALLOCATE planned")
    return "\n".join(r[0] for r in rows)
