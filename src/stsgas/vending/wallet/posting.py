"""Money into a wallet with its journal: the balance and the ledger move together.

One home for the credit both a top-up (``wallet.service.top_up``) and a refund of
a cancelled mobile-money sale (``sales.payer.refund``) make. It sits below both
(it needs only the wallet's SQL and the ledger), so the sale path can use it
without importing the wallet service, which imports the sale service. Nothing
here commits.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from stsgas.vending.ledger import service as ledger
from stsgas.vending.wallet import repository as wallets

__all__ = ["credit_with_journal"]


def credit_with_journal(
    session: Session, customer_id: int, amount: int, *, source: str, memo: str, now: datetime
) -> int | None:
    """Add ``amount`` to the wallet and post it from ledger account ``source`` (debit
    the source, credit the wallet): the balance after, or None (nothing credited,
    nothing posted) when the customer has no wallet."""
    after = wallets.credit(session, customer_id, amount, now)
    if after is None:
        return None
    ledger.post(
        session,
        [
            ledger.Line(account=source, debit=amount),
            ledger.Line(account=ledger.wallet_account(customer_id), credit=amount),
        ],
        sale_id=None,
        memo=memo,
    )
    return after
