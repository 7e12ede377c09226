"""SQL of the ledger: accounts by code, journal lines, per-account sums."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from stsgas.vending.kit.repository import RepositoryBase
from stsgas.vending.models import Account, LedgerEntry


class AccountRepository(RepositoryBase[Account]):
    """Accounts exist before the sales that post to them (migration 0010, and a
    trigger with each new vendor) and are never deleted."""

    model = Account

    def by_codes(self, codes: Iterable[str]) -> dict[str, Account]:
        """The existing accounts among ``codes``, by code."""
        rows = self.list(self.select().where(Account.code.in_(list(codes))))
        return {a.code: a for a in rows}

    def get_or_create(self, code: str, *, kind: str, name: str, vendor_id: int | None) -> Account:
        """The account ``code``; a concurrent creator's row wins (savepoint + re-read)."""
        found = self.get_one_or_none(self.select().where(Account.code == code))
        if found is not None:
            return found
        try:
            with self.session.begin_nested():
                acc = Account(code=code, kind=kind, name=name, vendor_id=vendor_id)
                self.session.add(acc)
        except IntegrityError:
            found = self.get_one_or_none(self.select().where(Account.code == code))
            assert found is not None
            return found
        return acc


class LedgerRepository(RepositoryBase[LedgerEntry]):
    """Journal lines and their sums."""

    model = LedgerEntry

    def add_all(self, lines: Sequence[LedgerEntry]) -> None:
        """Insert journal lines."""
        self.session.add_all(lines)

    def totals(self) -> tuple[int, int]:
        """Sum of all debits and of all credits."""
        row = self.session.execute(
            select(
                func.coalesce(func.sum(LedgerEntry.debit), 0),
                func.coalesce(func.sum(LedgerEntry.credit), 0),
            )
        ).one()
        return int(row[0]), int(row[1])

    def unbalanced_journals(self) -> list[str]:
        """Journals whose debits differ from their credits (should be none)."""
        stmt = (
            select(LedgerEntry.journal)
            .group_by(LedgerEntry.journal)
            .having(func.sum(LedgerEntry.debit) != func.sum(LedgerEntry.credit))
        )
        return [str(j) for j in self.session.execute(stmt).scalars()]

    def balances(self) -> list[tuple[str, str, int, int]]:
        """Per account: code, kind, total debit, total credit."""
        stmt = (
            select(
                Account.code,
                Account.kind,
                func.coalesce(func.sum(LedgerEntry.debit), 0),
                func.coalesce(func.sum(LedgerEntry.credit), 0),
            )
            .join(LedgerEntry, LedgerEntry.account_id == Account.id)
            .group_by(Account.code, Account.kind)
            .order_by(Account.code)
        )
        return [(str(c), str(k), int(d), int(cr)) for c, k, d, cr in self.session.execute(stmt)]

    def sale_totals(self, sale_ids: Sequence[int] | None = None) -> dict[int, tuple[int, int]]:
        """Per sale id: total debit and credit of its lines."""
        stmt = select(
            LedgerEntry.sale_id, func.sum(LedgerEntry.debit), func.sum(LedgerEntry.credit)
        ).where(LedgerEntry.sale_id.is_not(None))
        if sale_ids is not None:
            stmt = stmt.where(LedgerEntry.sale_id.in_(list(sale_ids)))
        stmt = stmt.group_by(LedgerEntry.sale_id)
        return {int(s or 0): (int(d), int(c)) for s, d, c in self.session.execute(stmt)}

    def account_lines(
        self, code: str, *, limit: int, before_id: int | None = None
    ) -> tuple[list[LedgerEntry], int]:
        """Newest first: up to ``limit`` lines of account ``code`` (older than
        ``before_id``), and the credits minus debits of its lines from ``before_id`` on
        (those newer than the page; 0 for the first page)."""
        stmt = (
            select(LedgerEntry)
            .join(Account, Account.id == LedgerEntry.account_id)
            .where(Account.code == code)
        )
        newer = 0
        if before_id is not None:
            stmt = stmt.where(LedgerEntry.id < before_id)
            net = (
                select(func.coalesce(func.sum(LedgerEntry.credit - LedgerEntry.debit), 0))
                .join(Account, Account.id == LedgerEntry.account_id)
                .where(Account.code == code, LedgerEntry.id >= before_id)
            )
            newer = int(self.session.execute(net).scalar_one())
        rows = list(self.list(stmt.order_by(LedgerEntry.id.desc()).limit(limit)))
        return rows, newer
