"""The payment-provider port: what the webhook needs from any mobile-money API.

A provider reports a payment by calling our webhook; the webhook never
trusts the report alone. It authenticates the caller (shared secret, address
allow-list), reads the report (:meth:`PaymentProvider.parse_callback`) and
asks the provider itself whether that transaction happened, for that amount
and account (:meth:`PaymentProvider.verify`) before any money moves.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["BadCallback", "PaymentProvider", "ProviderUnavailable", "Reported", "Verified"]


class BadCallback(ValueError):
    """The callback's body is not a payment report this provider sends."""


class ProviderUnavailable(Exception):
    """The provider could not be asked (network, its OAuth, a 5xx): try again later."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Reported:
    """A payment as the callback reports it (not yet believed)."""

    txn_id: str
    #: minor units of the utility's currency
    amount: int
    #: the account the payer typed: a meter number or a customer account
    reference: str
    phone: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Verified:
    """What the provider's own status answer says about a transaction."""

    txn_id: str
    amount: int
    reference: str
    completed: bool


class PaymentProvider(Protocol):
    """One mobile-money API."""

    @property
    def name(self) -> str:
        """The provider's short name, stored with each payment (unique with its txn id)."""
        ...

    def parse_callback(self, body: Mapping[str, Any]) -> Reported:
        """The payment a callback body reports; :class:`BadCallback` if it is none."""
        ...

    async def verify(self, txn_id: str) -> Verified | None:
        """The provider's answer about ``txn_id`` (None: it knows no such transaction);
        :class:`ProviderUnavailable` when it cannot be asked."""
        ...

    def acknowledge(self, accepted: bool) -> dict[str, Any]:
        """The body the provider expects in answer to its callback."""
        ...

    async def aclose(self) -> None:
        """Close this event loop's connections to the provider (the server stops)."""
        ...
