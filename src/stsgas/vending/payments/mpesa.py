"""An M-Pesa (Daraja) C2B provider: paybill callbacks, OAuth, transaction status.

The customer pays the utility's paybill with the meter number (or customer
account) as the account reference; the provider posts the confirmation to
our webhook as JSON with ``TransID``, ``TransAmount``, ``BillRefNumber``,
``MSISDN`` … and expects ``{"ResultCode": 0, "ResultDesc": "Accepted"}``.

Before believing it we ask the provider: an OAuth client-credentials token
(``GET /oauth/v1/generate?grant_type=client_credentials`` with HTTP Basic
consumer key and secret), then the transaction-status query
(``POST /mpesa/transactionstatus/v1/query`` with the bearer token). The real
API answers that query on a result URL later; this adapter expects the
answer in the response body (``Result`` with the transaction's facts), as the
local simulator gives it; a deployment against the asynchronous API puts a
small relay in front. The token is cached until shortly before it expires.

The status query runs on the server's event loop (an ``aiohttp`` session,
one kept-alive connection pool per loop), so a webhook waiting on the
provider holds no worker thread; aiohttp spends about a sixth of the CPU
httpx's async client spends per request (``docs/benchmarks.md``).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import time
import weakref
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import orjson

from stsgas.vending.errors import BadAmount
from stsgas.vending.kit.money import parse_money
from stsgas.vending.payments.provider import (
    BadCallback,
    ProviderUnavailable,
    Reported,
    Verified,
)

if TYPE_CHECKING:  # imported when first used: a server without mobile money skips it
    import aiohttp

__all__ = ["MpesaC2B"]

_TOKEN_PATH = "/oauth/v1/generate"
_STATUS_PATH = "/mpesa/transactionstatus/v1/query"
_MAX_FIELD = 64
_JSON = "application/json"


def _text(body: Mapping[str, Any], key: str, *, required: bool = True) -> str:
    value = body.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise BadCallback(f"{key} is missing")
        return ""
    if not isinstance(value, str | int):
        raise BadCallback(f"{key} is not text")
    text = str(value).strip()
    if len(text) > _MAX_FIELD:
        raise BadCallback(f"{key} is longer than {_MAX_FIELD}")
    return text


class MpesaC2B:
    """:class:`~stsgas.vending.payments.provider.PaymentProvider` for Daraja C2B."""

    name = "mpesa"

    def __init__(
        self,
        api_url: str,
        *,
        consumer_key: str,
        consumer_secret: str,
        shortcode: str,
        decimals: int,
        timeout: float = 10.0,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.consumer_key = consumer_key
        self.consumer_secret = consumer_secret
        self.shortcode = shortcode
        self.decimals = decimals
        self.timeout = timeout
        pair = f"{consumer_key}:{consumer_secret}".encode()
        #: HTTP Basic credentials of the OAuth request
        self._basic = "Basic " + base64.b64encode(pair).decode("ascii")
        self._token: tuple[str, float] | None = None
        self._sessions: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, aiohttp.ClientSession
        ] = weakref.WeakKeyDictionary()

    def _session(self) -> aiohttp.ClientSession:
        """This event loop's session (a pooled connection cannot move between loops)."""
        import aiohttp

        loop = asyncio.get_running_loop()
        session = self._sessions.get(loop)
        if session is None or session.closed:
            session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
            self._sessions[loop] = session
        return session

    async def aclose(self) -> None:
        """Close this event loop's session (the app's lifespan ends)."""
        with contextlib.suppress(RuntimeError):  # no running loop: nothing of ours to close
            session = self._sessions.pop(asyncio.get_running_loop(), None)
            if session is not None:
                await session.close()

    def parse_callback(self, body: Mapping[str, Any]) -> Reported:
        """The confirmation's payment; :class:`BadCallback` if a field is missing or bad."""
        txn = _text(body, "TransID")
        try:
            amount = parse_money(_text(body, "TransAmount"), self.decimals)
        except BadAmount as exc:
            raise BadCallback(f"TransAmount: {exc.detail}") from None
        if amount <= 0:
            raise BadCallback("TransAmount must be positive")
        short = _text(body, "BusinessShortCode", required=False)
        if self.shortcode and short and short != self.shortcode:
            raise BadCallback(f"paid to shortcode {short}, not ours")
        return Reported(
            txn_id=txn,
            amount=amount,
            reference=_text(body, "BillRefNumber", required=False),
            phone=_text(body, "MSISDN", required=False),
        )

    async def _bearer(self) -> str:
        import aiohttp

        # two callbacks at once may both fetch a token at start: harmless, both are valid
        if self._token is not None and self._token[1] > time.monotonic():
            return self._token[0]
        try:
            async with self._session().get(
                self.api_url + _TOKEN_PATH,
                params={"grant_type": "client_credentials"},
                headers={"Authorization": self._basic},
            ) as r:
                if r.status != 200:
                    raise ProviderUnavailable(f"token request answered {r.status}")
                body = await r.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise ProviderUnavailable(f"token request failed: {exc}") from exc
        token = str(body["access_token"])
        ttl = int(body.get("expires_in", 3599))
        self._token = (token, time.monotonic() + max(ttl - 60, 1))
        return token

    async def verify(self, txn_id: str) -> Verified | None:
        """Ask the provider about ``txn_id`` (the status query, with a fresh-enough token)."""
        import aiohttp

        for attempt in range(2):  # a token the provider forgot is fetched once more
            token = await self._bearer()
            try:
                async with self._session().post(
                    self.api_url + _STATUS_PATH,
                    headers={"Authorization": f"Bearer {token}", "Content-Type": _JSON},
                    data=orjson.dumps(
                        {
                            "CommandID": "TransactionStatusQuery",
                            "TransactionID": txn_id,
                            "PartyA": self.shortcode,
                            "IdentifierType": "4",
                            "Remarks": "stsgas verifies a payment",
                            "Occasion": "",
                        }
                    ),
                ) as r:
                    status = r.status
                    body = orjson.loads(await r.read()) if status == 200 else None
            except (aiohttp.ClientError, TimeoutError, ValueError) as exc:  # orjson's too
                raise ProviderUnavailable(f"status query failed: {exc}") from exc
            if status == 401 and attempt == 0:
                self._token = None
                continue
            if status == 404:
                return None
            if status != 200 or not isinstance(body, Mapping):
                raise ProviderUnavailable(f"status query answered {status}")
            return self._verified(txn_id, body)
        raise ProviderUnavailable("the provider refused our token twice")

    def _verified(self, txn_id: str, body: Mapping[str, Any]) -> Verified | None:
        result = body.get("Result")
        if str(body.get("ResponseCode")) != "0" or not isinstance(result, Mapping):
            return None
        if str(result.get("TransID")) != txn_id:
            return None
        try:
            amount = parse_money(str(result.get("TransAmount")), self.decimals)
        except BadAmount:
            return None
        return Verified(
            txn_id=txn_id,
            amount=amount,
            reference=str(result.get("BillRefNumber") or ""),
            completed=result.get("TransactionStatus") == "Completed",
        )

    def acknowledge(self, accepted: bool) -> dict[str, Any]:
        """Daraja's confirmation answer."""
        if accepted:
            return {"ResultCode": 0, "ResultDesc": "Accepted"}
        return {"ResultCode": "C2B00016", "ResultDesc": "Rejected"}
