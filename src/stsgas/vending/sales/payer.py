"""Who pays for a sale: the seller's vendor float, the customer's wallet, or mobile money.

One place decides it for every path of the sale pipeline (:mod:`.step`,
:mod:`.compose`, :mod:`.service`): which ledger account is debited, whether
the seller must have a vendor float, and whether the float is drawn at all.
A wallet pays only for a meter linked to its customer; its balance is drawn
in the sale's transaction (:func:`draw_wallet`), so a refusal rolls the whole
sale back. Nothing here commits.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from stsgas.vending.ledger import service as ledger
from stsgas.vending.models import PaidFrom, Sale
from stsgas.vending.wallet import repository as wallets
from stsgas.vending.wallet.errors import InsufficientWallet, NotCustomersMeter

if TYPE_CHECKING:
    from stsgas.vending.sales.compose import SaleRequest, Seller
    from stsgas.vending.sales.rows import LockedMeter


def account(*, paid_from: str, vendor_id: int | None, channel: str, customer_id: int | None) -> str:
    """The ledger account that pays a sale's receipt."""
    if paid_from == PaidFrom.WALLET.value:
        assert customer_id is not None, "a wallet sale names its customer"
        return ledger.wallet_account(customer_id)
    if paid_from == PaidFrom.MOBILE.value:
        return ledger.MOBILE_CLEARING
    if vendor_id is not None:
        return ledger.vendor_float_account(vendor_id)
    return ledger.clearing_account(channel)


def vendor_of(req: SaleRequest, seller: Seller) -> int | None:
    """The vendor whose float the sale draws: none unless the float pays."""
    return seller.vendor_id if req.paid_from == PaidFrom.FLOAT.value else None


def check_wallet_meter(meter: LockedMeter, req: SaleRequest) -> None:
    """A wallet pays only for a meter linked to its customer."""
    if req.paid_from != PaidFrom.WALLET.value:
        return
    if meter.customer_id is None or (
        req.payer_customer_id is not None and meter.customer_id != req.payer_customer_id
    ):
        raise NotCustomersMeter(
            f"meter {meter.pan} is not linked to the customer whose wallet would pay"
        )


def draw_wallet(
    session: Session, meter: LockedMeter, req: SaleRequest, paid: int, now: datetime
) -> None:
    """Take the sale's price from the meter's customer's wallet, or refuse the sale."""
    if req.paid_from != PaidFrom.WALLET.value:
        return
    assert meter.customer_id is not None
    if wallets.draw(session, meter.customer_id, paid, now) is None:
        have = wallets.balance(session, meter.customer_id) or 0
        raise InsufficientWallet(
            f"the wallet holds {have} (minor units), less than the {paid} this sale costs"
        )


def refund(session: Session, sale: Sale, now: datetime) -> None:
    """Give a cancelled wallet sale's price back to the wallet (the journal's reversal
    credits the wallet account; this keeps the balance beside it)."""
    if sale.paid_from == PaidFrom.WALLET.value and sale.customer_id is not None:
        wallets.credit(session, sale.customer_id, sale.amount_paid, now)
