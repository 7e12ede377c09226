"""Money into a wallet with its journal: the balance and the ledger move together.

One home for the credit a top-up (``wallet.service.top_up``), the change of a
mobile-money payment (``payments.service``) and a refund of a cancelled
mobile-money sale (``sales.payer.refund``) make: the request
:class:`~stsgas.vending.sales.ops.CreditWallet`, answered by the session's
sale store, so each engine has one implementation (SQLite: the wallet's SQL
and ``ledger.post``; PostgreSQL: the one statement of ``sales.pg``, which the
event-loop payment folds into its write). It sits below the wallet and sale
services (it needs only the stores), so the sale path can use it without
importing the wallet service, which imports the sale service. Nothing here
commits.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from stsgas.vending.sales import ops
from stsgas.vending.sales.stores import store_for

__all__ = ["credit_with_journal"]


def credit_with_journal(session: Session, credit: ops.CreditWallet) -> int | None:
    """Add ``credit.amount`` to the wallet and post it from ledger account
    ``credit.source`` (debit the source, credit the wallet): the balance after, or None
    (nothing credited, nothing posted) when the customer has no wallet or the amount
    is not positive."""
    # on PostgreSQL the statement runs on the connection beside the ORM: the session's
    # pending rows (a customer just added, and so its wallet) must be in the database
    session.flush()
    answer: int | None = store_for(session).do(credit)
    return answer
