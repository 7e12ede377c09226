"""The simulator's state: its transactions, issued tokens, and callback delivery."""

from __future__ import annotations

import secrets
import string
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx

__all__ = ["Delivery", "Simulator", "Txn"]

_ALPHABET = string.ascii_uppercase + string.digits


@dataclass(slots=True, kw_only=True)
class Delivery:
    """How the callback of one transaction went."""

    attempts: int = 0
    delivered: bool = False
    last_status: int | None = None
    last_error: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Txn:
    """One completed customer payment."""

    trans_id: str
    amount: Decimal
    account: str
    phone: str
    at: datetime

    def callback_body(self, shortcode: str) -> dict[str, Any]:
        """The C2B confirmation body (Daraja's field names)."""
        return {
            "TransactionType": "Pay Bill",
            "TransID": self.trans_id,
            "TransTime": self.at.strftime("%Y%m%d%H%M%S"),
            "TransAmount": f"{self.amount:.2f}",
            "BusinessShortCode": shortcode,
            "BillRefNumber": self.account,
            "InvoiceNumber": "",
            "OrgAccountBalance": "",
            "ThirdPartyTransID": "",
            "MSISDN": self.phone,
            "FirstName": "Sim",
            "MiddleName": "",
            "LastName": "Customer",
        }

    def status_result(self) -> dict[str, Any]:
        """The facts a transaction-status query answers."""
        return {
            "TransID": self.trans_id,
            "TransAmount": f"{self.amount:.2f}",
            "BillRefNumber": self.account,
            "MSISDN": self.phone,
            "TransactionStatus": "Completed",
            "TransTime": self.at.strftime("%Y%m%d%H%M%S"),
        }


@dataclass(slots=True, kw_only=True)
class Simulator:
    """Transactions and tokens, thread-safe; delivers callbacks on threads of its own."""

    callback_url: str
    consumer_key: str
    consumer_secret: str
    shortcode: str = "600000"
    #: delivery attempts per callback, and the first pause between them (doubling)
    attempts: int = 6
    backoff_s: float = 0.25
    token_ttl_s: int = 3599
    txns: dict[str, Txn] = field(default_factory=dict)
    deliveries: dict[str, Delivery] = field(default_factory=dict)
    tokens: dict[str, float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def issue_token(self, key: str, secret: str) -> str | None:
        """A bearer token for the right consumer key and secret, else None."""
        if not (
            secrets.compare_digest(key, self.consumer_key)
            and secrets.compare_digest(secret, self.consumer_secret)
        ):
            return None
        token = secrets.token_urlsafe(24)
        with self.lock:
            self.tokens[token] = time.monotonic() + self.token_ttl_s
        return token

    def token_ok(self, token: str) -> bool:
        """Whether ``token`` was issued here and has not expired."""
        with self.lock:
            until = self.tokens.get(token)
        return until is not None and until > time.monotonic()

    def pay(self, *, phone: str, amount: Decimal, account: str, deliver: bool = True) -> Txn:
        """A customer pays ``amount`` to the paybill with ``account`` as the reference."""
        txn = Txn(
            trans_id="SIM" + "".join(secrets.choice(_ALPHABET) for _ in range(7)),
            amount=amount,
            account=account,
            phone=phone,
            at=datetime.now(UTC),
        )
        with self.lock:
            self.txns[txn.trans_id] = txn
            self.deliveries[txn.trans_id] = Delivery()
        if deliver:
            threading.Thread(target=self.deliver, args=(txn,), daemon=True).start()
        return txn

    def find(self, trans_id: str) -> Txn | None:
        """The transaction, if this provider made it."""
        with self.lock:
            return self.txns.get(trans_id)

    def deliver(self, txn: Txn) -> Delivery:
        """POST the confirmation until the merchant answers 2xx or the attempts run out."""
        state = self.deliveries.setdefault(txn.trans_id, Delivery())
        pause = self.backoff_s
        with httpx.Client(timeout=10.0) as client:
            for attempt in range(1, self.attempts + 1):
                state.attempts = attempt
                try:
                    r = client.post(self.callback_url, json=txn.callback_body(self.shortcode))
                    state.last_status = r.status_code
                    if 200 <= r.status_code < 300:
                        state.delivered = True
                        return state
                except httpx.HTTPError as exc:
                    state.last_error = str(exc)
                if attempt < self.attempts:
                    time.sleep(pause)
                    pause *= 2
        return state
