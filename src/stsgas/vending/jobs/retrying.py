"""The SMS gateway hook that turns a refused message into a resend job.

It lives apart from :mod:`.wiring` so that both runners (:mod:`.local`,
:mod:`.queue`) can put it around the gateway of a job that sends SMS itself
(the token SMS sweep) without importing the server's wiring.
"""

from __future__ import annotations

import logging
from typing import Protocol

from stsgas.vending.sms.gateway import OutboundSms, SmsGateway, SmsGatewayError

__all__ = ["Defers", "RetryingGateway"]

log = logging.getLogger("stsgas.vending.jobs")


class Defers(Protocol):
    """Whatever can queue the resend of a stored, unsent SMS (either runner)."""

    def defer_sms_reply(self, *, to: str, reference: str) -> None:
        """Queue a resend of the stored reply ``reference`` to ``to``."""


class RetryingGateway(SmsGateway):
    """An SMS gateway deferring a resend job when a stored message is refused."""

    def __init__(self, inner: SmsGateway, runner: Defers) -> None:
        self.inner = inner
        self._runner = runner

    @property
    def blocks(self) -> bool:
        """As the wrapped gateway (its refusal, which queues a resend, is what may wait)."""
        return self.inner.blocks

    def send(self, message: OutboundSms) -> None:
        """Send; on refusal queue a resend (when the queue is reachable) and re-raise."""
        try:
            self.inner.send(message)
        except SmsGatewayError:
            try:
                self._runner.defer_sms_reply(to=message.to, reference=message.reference)
            except Exception:  # the message is stored: the gateway's own retry still sends it
                log.exception("cannot queue the SMS reply for a retry")
            raise
