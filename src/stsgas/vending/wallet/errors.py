"""The wallet's refusals, each with a stable problem ``code``."""

from __future__ import annotations

from stsgas.vending.errors import Conflict, NotFound


class InsufficientWallet(Conflict):
    """The wallet holds less than the sale costs: nothing is sold, nothing drawn."""

    code = "insufficient_wallet"
    title = "Wallet balance too low"


class NotCustomersMeter(Conflict):
    """A wallet pays only for the meters linked to its customer."""

    code = "not_customers_meter"
    title = "Meter not linked to this customer"


class WalletNotFound(NotFound):
    """No wallet (no such customer)."""

    code = "wallet_not_found"
