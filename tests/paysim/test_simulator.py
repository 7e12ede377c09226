"""The mobile-money simulator as its own process: customer pays, it calls the merchant
back (retrying while refused), and answers OAuth and transaction-status like the API."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import httpx
import pytest

from stsgas.cli import main
from stsgas.paysim.ledger import Simulator
from stsgas.vending.payments.mpesa import MpesaC2B
from stsgas.vending.payments.provider import ProviderUnavailable, Verified
from tests.paysim.merchant_double import MerchantDouble, running_merchant
from tests.processes import answer, free_port


@contextmanager
def simulator_process(callback: str) -> Iterator[str]:
    """``python -m stsgas.paysim`` on a free port until the block ends; yields its URL."""
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "stsgas.paysim",
            f"--port={port}",
            f"--callback={callback}",
            "--consumer-key=key",
            "--consumer-secret=secret",
        ],
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        answer(lambda: httpx.get(url + "/", timeout=1), proc, status=200)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _wait_for(merchant: MerchantDouble, count: int) -> None:
    deadline = time.monotonic() + 30
    while len(merchant.received) < count:
        assert time.monotonic() < deadline, f"only {len(merchant.received)} callbacks"
        time.sleep(0.05)


async def _ask(mpesa: MpesaC2B, trans_id: str) -> Verified | None:
    """One status query on a loop of its own, its connection closed before the loop."""
    try:
        return await mpesa.verify(trans_id)
    finally:
        await mpesa.aclose()


def test_the_simulator_process_calls_back_and_answers_the_status_query(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with running_merchant() as merchant, simulator_process(merchant.url) as sim:
        code = main(
            ["payments", "pay", "--sim", sim, "--account", "01234567890", "--amount", "25.50"]
        )
        assert code == 0
        trans_id = capsys.readouterr().out.strip()
        _wait_for(merchant, 1)
        (body,) = merchant.received
        assert body["TransID"] == trans_id
        assert (body["TransAmount"], body["BillRefNumber"]) == ("25.50", "01234567890")
        mpesa = MpesaC2B(
            sim, consumer_key="key", consumer_secret="secret", shortcode="600000", decimals=2
        )
        reported = mpesa.parse_callback(body)
        verified = asyncio.run(_ask(mpesa, trans_id))
        assert verified is not None
        assert (verified.amount, verified.reference, verified.completed) == (
            2_550,
            "01234567890",
            True,
        )
        assert reported.amount == verified.amount
        assert asyncio.run(_ask(mpesa, "NOSUCHTXN1")) is None
        wrong = MpesaC2B(sim, consumer_key="key", consumer_secret="guess", shortcode="", decimals=2)
        with pytest.raises(ProviderUnavailable):
            asyncio.run(_ask(wrong, trans_id))


def test_the_html_form_pays_too() -> None:
    with running_merchant() as merchant, simulator_process(merchant.url) as sim:
        page = httpx.post(
            sim + "/pay", data={"phone": "254711", "account": "C7", "amount": "3"}, timeout=10
        )
        assert page.status_code == 200
        assert "Paid: transaction SIM" in page.text
        _wait_for(merchant, 1)
        assert merchant.received[0]["BillRefNumber"] == "C7"
        bad = httpx.post(sim + "/pay", data={"phone": "1", "account": "C7", "amount": "-1"})
        assert bad.status_code == 400


def test_a_refused_callback_is_retried_until_accepted() -> None:
    with running_merchant(fail_first=2) as merchant:
        sim = Simulator(
            callback_url=merchant.url, consumer_key="k", consumer_secret="s", backoff_s=0.01
        )
        txn = sim.pay(phone="254700", amount=Decimal("5"), account="C1", deliver=False)
        state = sim.deliver(txn)
    assert (state.delivered, state.attempts, state.last_status) == (True, 3, 200)
    assert [b["TransID"] for b in merchant.received] == [txn.trans_id] * 3


def test_a_callback_never_accepted_gives_up_after_its_attempts() -> None:
    with running_merchant(fail_first=99) as merchant:
        sim = Simulator(
            callback_url=merchant.url,
            consumer_key="k",
            consumer_secret="s",
            backoff_s=0.01,
            attempts=3,
        )
        state = sim.deliver(
            sim.pay(phone="254700", amount=Decimal("5"), account="C1", deliver=False)
        )
    assert (state.delivered, state.attempts, state.last_status) == (False, 3, 503)


def test_the_cli_says_when_the_simulator_is_not_there(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["payments", "pay", "--sim", "http://127.0.0.1:9", "--account", "C1", "--amount", "1"]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "cannot reach the simulator" in err
