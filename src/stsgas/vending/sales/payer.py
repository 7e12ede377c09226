"""Who pays for a sale: the seller's vendor float, the customer's wallet, or mobile money.

One place decides it for every step of the sale pipeline (:mod:`.step`,
:mod:`.compose`, :mod:`.pipeline`): which ledger account is debited, whether
the seller must have a vendor float, and whether the float is drawn at all.
A wallet pays only for a meter linked to its customer; its balance is drawn
in the sale's transaction (the pipeline's ``DrawWallet`` request), so a
refusal rolls the whole sale back. Nothing here commits.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from stsgas.vending.ledger import service as ledger
from stsgas.vending.models import PaidFrom, Sale
from stsgas.vending.sales import ops
from stsgas.vending.wallet import repository as wallets
from stsgas.vending.wallet.errors import NotCustomersMeter
from stsgas.vending.wallet.posting import credit_with_journal

if TYPE_CHECKING:
    from stsgas.vending.sales.request import SaleRequest, Seller
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


class RefundTo(StrEnum):
    """Where a cancelled sale's money went."""

    #: back into the seller's vendor float
    FLOAT = "float"
    #: into the customer's wallet (a wallet sale, or mobile money for a customer's meter)
    WALLET = "wallet"
    #: owed to whoever paid by mobile money (no customer, no wallet): settled by hand
    PAYER = "payer"
    #: back to the channel's clearing account (a sale with no float, wallet or payer)
    CLEARING = "clearing"


def refund(session: Session, sale: Sale, now: datetime) -> RefundTo:
    """Give a cancelled sale's price back to whoever paid it, after the journal's reversal.

    A wallet sale: the reversal credits the wallet account; this keeps the balance
    beside it. A mobile-money sale: the reversal leaves the price in ``clearing:mobile``
    (money the provider holds for the payer), which the payer cannot get at; for a
    meter with a customer it goes into the customer's wallet, balance and journal
    together (debit the clearing, credit the wallet, as a top-up does; the journal
    names no sale, so the sale's own lines stay its sale and its reversal). Without a
    customer (or wallet) it stays there, owed to the payer, for the office to settle.
    """
    if sale.paid_from == PaidFrom.WALLET.value and sale.customer_id is not None:
        wallets.credit(session, sale.customer_id, sale.amount_paid, now)
        return RefundTo.WALLET
    if sale.paid_from == PaidFrom.MOBILE.value:
        if sale.customer_id is None or sale.amount_paid <= 0:
            return RefundTo.PAYER
        credited = credit_with_journal(
            session,
            ops.CreditWallet(
                customer_id=sale.customer_id,
                amount=sale.amount_paid,
                source=ledger.MOBILE_CLEARING,
                memo=f"refund of cancelled sale {sale.id} (mobile money) to the wallet",
                now=now,
            ),
        )
        if credited is None:
            return RefundTo.PAYER  # no wallet row: nothing credited, nothing posted
        return RefundTo.WALLET
    return RefundTo.FLOAT if sale.vendor_id is not None else RefundTo.CLEARING


def refund_note(to: RefundTo, amount: str) -> str:
    """What the cancel answer says about the refund."""
    if to is RefundTo.WALLET:
        return f"{amount} went into the customer's wallet."
    if to is RefundTo.PAYER:
        return (
            f"{amount} paid by mobile money is owed to the payer: the meter had no "
            "customer wallet to take it, so refund the payer by hand and reconcile."
        )
    if to is RefundTo.FLOAT:
        return f"{amount} went back to the vendor's float."
    return f"{amount} was taken off the channel's takings."
