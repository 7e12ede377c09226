"""SQL of the audit log."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import select, text

from stsgas.vending.kit.repository import RepositoryBase
from stsgas.vending.models import AuditEntry

#: advisory lock id that serialises appends to the chain on PostgreSQL
_AUDIT_LOCK = 0x5754_5347_4153


class AuditRepository(RepositoryBase[AuditEntry]):
    """Appends to and reads the chain."""

    model = AuditEntry

    def lock_head(self) -> None:
        """Hold the chain's append lock until commit (SQLite's BEGIN IMMEDIATE already does)."""
        if self.session.get_bind().dialect.name == "postgresql":
            self.session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _AUDIT_LOCK})

    def head(self) -> AuditEntry | None:
        """The newest entry."""
        stmt = select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)
        return self.get_one_or_none(stmt)

    def iter_chain(self, batch: int = 1000) -> Iterator[AuditEntry]:
        """Every entry in ``seq`` order, read in keyset pages (no open cursor is left)."""
        after = 0
        while True:
            stmt = (
                select(AuditEntry)
                .where(AuditEntry.seq > after)
                .order_by(AuditEntry.seq)
                .limit(batch)
            )
            rows = self.list(stmt)
            yield from rows
            if len(rows) < batch:
                return
            after = rows[-1].seq
