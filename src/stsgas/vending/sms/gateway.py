"""The outbound SMS port: one small interface, an HTTP adapter and a memory double.

The operator's SMS gateway is reached over HTTP: a JSON POST to a configured
URL. The adapter takes an ``httpx.Client`` so tests pass an
``httpx.MockTransport`` or point it at a local gateway double, and production
sets timeouts and TLS once, on the client.

Gateway contract (what :class:`HttpSmsGateway` sends)::

    POST <url>
    Authorization: Bearer <token>          (only when a token is configured)
    Content-Type: application/json
    {"to": "+255700000001", "text": "...", "reference": "<inbound message id>"}

Any 2xx answer means accepted. Anything else, or a transport error, raises
:class:`SmsGatewayError`; the reply is already stored, so a retry of the
inbound message re-sends the same text.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field

import httpx

__all__ = ["HttpSmsGateway", "MemorySmsGateway", "OutboundSms", "SmsGateway", "SmsGatewayError"]


class SmsGatewayError(Exception):
    """The gateway did not accept a message."""


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboundSms:
    """One message handed to the gateway."""

    to: str
    text: str
    reference: str


class SmsGateway(abc.ABC):
    """Sends one SMS; raises :class:`SmsGatewayError` when it was not accepted."""

    @property
    def blocks(self) -> bool:
        """Whether :meth:`send` may wait on I/O, so a caller on an event loop hands it to
        a worker thread (a gateway that never waits is cheaper called inline)."""
        return True

    @abc.abstractmethod
    def send(self, message: OutboundSms) -> None:
        """Hand ``message`` to the gateway."""


@dataclass(slots=True)
class MemorySmsGateway(SmsGateway):
    """Keeps messages in a list: the demo server's gateway and a test double."""

    sent: list[OutboundSms] = field(default_factory=list)

    @property
    def blocks(self) -> bool:
        """Never: it appends to a list."""
        return False

    def send(self, message: OutboundSms) -> None:
        """Record the message."""
        self.sent.append(message)


class HttpSmsGateway(SmsGateway):
    """POSTs each message as JSON to the operator's gateway URL."""

    def __init__(self, client: httpx.Client, url: str, *, token: str | None = None) -> None:
        self._client = client
        self._url = url
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}

    def send(self, message: OutboundSms) -> None:
        """POST the message; any non-2xx answer or transport failure raises."""
        body = {"to": message.to, "text": message.text, "reference": message.reference}
        try:
            response = self._client.post(self._url, json=body, headers=self._headers)
        except httpx.HTTPError as exc:
            raise SmsGatewayError(f"gateway unreachable: {type(exc).__name__}") from exc
        if not response.is_success:
            raise SmsGatewayError(f"gateway answered {response.status_code}")
