"""The HTTP SMS gateway adapter speaks the documented contract and reports failures."""

from __future__ import annotations

import json

import httpx
import pytest

from stsgas.vending.sms.gateway import (
    HttpSmsGateway,
    MemorySmsGateway,
    OutboundSms,
    SmsGatewayError,
)
from tests.vending.sms.gateway_double import running_gateway

MESSAGE = OutboundSms(to="+255700000001", text="Token 1234 5678", reference="m-1")


def test_posts_json_to_a_real_local_gateway() -> None:
    """A message reaches a gateway on 127.0.0.1 as the documented JSON with the token header."""
    with running_gateway() as gw, httpx.Client(timeout=5) as client:
        HttpSmsGateway(client, gw.url, token="s3cret").send(MESSAGE)
    assert gw.received == [{"to": "+255700000001", "text": "Token 1234 5678", "reference": "m-1"}]
    assert gw.headers[0]["Authorization"] == "Bearer s3cret"


def test_gateway_refusal_raises() -> None:
    """A non-2xx answer from the gateway is an error, not a silent loss."""
    with running_gateway() as gw, httpx.Client(timeout=5) as client:
        gw.status = 503
        with pytest.raises(SmsGatewayError, match="503"):
            HttpSmsGateway(client, gw.url).send(MESSAGE)


def test_unreachable_gateway_raises() -> None:
    """A transport failure is reported as SmsGatewayError."""

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with (
        httpx.Client(transport=httpx.MockTransport(refuse)) as client,
        pytest.raises(SmsGatewayError, match="unreachable"),
    ):
        HttpSmsGateway(client, "http://gateway.invalid/send").send(MESSAGE)


def test_no_token_no_authorization_header() -> None:
    """Without a configured token the adapter sends no Authorization header."""
    seen: list[httpx.Request] = []

    def accept(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    with httpx.Client(transport=httpx.MockTransport(accept)) as client:
        HttpSmsGateway(client, "http://gw.test/send").send(MESSAGE)
    assert "authorization" not in seen[0].headers
    assert json.loads(seen[0].content)["reference"] == "m-1"


def test_memory_gateway_keeps_messages() -> None:
    """The demo gateway keeps what it was given, in order."""
    gateway = MemorySmsGateway()
    gateway.send(MESSAGE)
    assert gateway.sent == [MESSAGE]
