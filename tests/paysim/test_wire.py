"""The simulator's own HTTP server (a bare asyncio protocol): keep-alive and pipelined
requests answered in order, with the same answers as its ASGI face."""

from __future__ import annotations

import asyncio
import base64
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import httpx
import orjson

from stsgas.paysim.api import Api
from stsgas.paysim.ledger import Simulator
from stsgas.paysim.server import build
from stsgas.paysim.wire import _Connection
from tests.vending.sales.live import serve


def _sim() -> Simulator:
    return Simulator(callback_url="http://127.0.0.1:9/unset", consumer_key="k", consumer_secret="s")


@contextmanager
def _wire(api: Api) -> Iterator[int]:
    """The protocol server on a free port, on a loop in a thread; yields the port."""
    loop = asyncio.new_event_loop()
    conns: list[_Connection] = []

    def made() -> _Connection:
        conns.append(_Connection(api))
        return conns[-1]

    server = loop.run_until_complete(loop.create_server(made, "127.0.0.1", 0))
    port = server.sockets[0].getsockname()[1]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield port
    finally:

        def close() -> None:
            server.close()
            for conn in conns:
                if conn.transport is not None:
                    conn.transport.close()
            loop.call_soon(loop.stop)  # after the transports' own close callbacks

        loop.call_soon_threadsafe(close)
        thread.join(5)
        loop.run_until_complete(asyncio.sleep(0))
        loop.close()


def _read_answers(sock: socket.socket, count: int) -> list[tuple[int, bytes]]:
    """``count`` whole answers (status, body) read off ``sock``."""
    data, out = b"", list[tuple[int, bytes]]()
    while len(out) < count:
        end = data.find(b"\r\n\r\n")
        if end >= 0:
            head = data[:end].lower()
            at = head.find(b"content-length:")
            length = int(head[at + 15 : head.find(b"\r\n", at) if b"\r\n" in head[at:] else end])
            if len(data) >= end + 4 + length:
                out.append((int(data[9:12]), data[end + 4 : end + 4 + length]))
                data = data[end + 4 + length :]
                continue
        chunk = sock.recv(65536)
        assert chunk, "the server closed the connection"
        data += chunk
    return out


def test_pipelined_requests_on_one_connection_are_answered_in_order() -> None:
    sim = _sim()
    api = Api(sim)
    txn = sim.pay(phone="254700", amount=Decimal("5.00"), account="C1", deliver=False)
    basic = base64.b64encode(b"k:s").decode()
    with _wire(api) as port, socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        token_req = (
            "GET /oauth/v1/generate?grant_type=client_credentials HTTP/1.1\r\n"
            f"Host: x\r\nAuthorization: Basic {basic}\r\n\r\n"
        ).encode()
        sock.sendall(token_req + b"GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n")
        (status, body), (missing, _) = _read_answers(sock, 2)
        assert (status, missing) == (200, 404)
        token = orjson.loads(body)["access_token"]
        query = orjson.dumps({"TransactionID": txn.trans_id})
        ask = (
            "POST /mpesa/transactionstatus/v1/query HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(query)}\r\n\r\n"
        ).encode() + query
        sock.sendall(ask + ask.replace(token.encode(), b"forged"))
        (ok, answer), (refused, _) = _read_answers(sock, 2)
    assert (ok, refused) == (200, 401)
    result = orjson.loads(answer)["Result"]
    assert (result["TransID"], result["TransAmount"], result["BillRefNumber"]) == (
        txn.trans_id,
        "5.00",
        "C1",
    )


def test_the_protocol_server_and_the_asgi_app_answer_alike() -> None:
    sim = _sim()
    api = Api(sim)
    txn = sim.pay(phone="254700", amount=Decimal("7.50"), account="C2", deliver=False)
    with _wire(api) as port, serve(build(sim)) as asgi_url:
        for base in (f"http://127.0.0.1:{port}", asgi_url):
            with httpx.Client(base_url=base, timeout=5) as c:
                token = c.get(
                    "/oauth/v1/generate",
                    params={"grant_type": "client_credentials"},
                    auth=("k", "s"),
                ).json()["access_token"]
                r = c.post(
                    "/mpesa/transactionstatus/v1/query",
                    json={"TransactionID": txn.trans_id},
                    headers={"Authorization": f"Bearer {token}"},
                )
                assert r.status_code == 200
                assert r.json()["Result"]["TransAmount"] == "7.50"
                assert c.get("/oauth/v1/generate", params={"grant_type": "x"}).status_code == 400
                paid = c.post("/pay", data={"phone": "2547", "account": "C3", "amount": "2"})
                assert "Paid: transaction SIM" in paid.text
                assert c.get(f"/transactions/{txn.trans_id}").json()["delivered"] is False
                assert c.post("/pay", json=[1]).status_code == 400


def test_a_request_that_is_no_http_is_answered_400_and_closed() -> None:
    with _wire(Api(_sim())) as port, socket.create_connection(("127.0.0.1", port)) as sock:
        sock.settimeout(5)
        sock.sendall(b"\x00\x01 not http\r\n\r\n")
        answer = sock.recv(4096)
        assert answer.startswith(b"HTTP/1.1 400 ")
        assert sock.recv(4096) == b""  # closed
