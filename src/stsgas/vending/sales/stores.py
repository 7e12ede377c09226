"""The sale store of a session's database engine, chosen in one place.

A sale (:mod:`.service`) and money into a wallet outside a sale
(``wallet.posting``) ask the same store, so each engine answers a request
of :mod:`.ops` one way: SQLAlchemy Core and the ORM on SQLite, the
PostgreSQL statements of :mod:`.pg` (psycopg) on PostgreSQL. Its own module
so the wallet code can reach it without importing the sale service.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from stsgas.vending.sales.ops import SaleStore
from stsgas.vending.sales.pg import PgSaleStore
from stsgas.vending.sales.store import CoreSaleStore

__all__ = ["store_for"]


def store_for(session: Session) -> SaleStore:
    """The sale store of the session's database engine."""
    if session.get_bind().dialect.name == "postgresql":
        return PgSaleStore(session)
    return CoreSaleStore(session)
