"""Mobile money against a real simulator on 127.0.0.1 (its HTTP server in a thread).

``paying`` is the app with the M-Pesa webhook pointed at that simulator, a
customer with meters (the wallet fixtures), and the ``mpesa`` operator sales
paid by mobile money are recorded as.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import Engine, func, select

from stsgas.paysim.ledger import Simulator, Txn
from stsgas.paysim.server import build
from stsgas.vending.db import make_sessionmaker
from stsgas.vending.keys.security import SoftwareSecurityModule
from stsgas.vending.models import Operator, Payment, Role, Sale
from stsgas.vending.payments import endpoints as payments
from stsgas.vending.payments.settings import MpesaSettings
from stsgas.vending.sms.gateway import MemorySmsGateway, OutboundSms
from tests.vending.conftest import auth
from tests.vending.sales.live import serve
from tests.vending.wallet.conftest import WalletShop, make_wallet_shop

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

SECRET = "callback-secret"
CONFIRM = f"/api/v1/payments/mpesa/confirmation?token={SECRET}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Paying:
    """The app with mobile money set up, its simulator and the shop."""

    app: Any
    sim: Simulator
    sim_url: str
    shop: WalletShop

    def sent_sms(self) -> list[OutboundSms]:
        """What the SMS gateway was handed."""
        gateway = self.app.state.sms_gateway
        inner = getattr(gateway, "inner", gateway)
        assert isinstance(inner, MemorySmsGateway)
        return list(inner.sent)

    def pay(self, account: str, amount: str, phone: str = "254700000042") -> Txn:
        """A customer pays through the simulator (the callback is sent by the test)."""
        return self.sim.pay(phone=phone, amount=Decimal(amount), account=account, deliver=False)


@pytest.fixture
def simulator() -> Iterator[tuple[Simulator, str]]:
    """A simulator served on a free port (its callbacks go nowhere unless a test says)."""
    sim = Simulator(
        callback_url="http://127.0.0.1:9/unset",
        consumer_key="key",
        consumer_secret="secret",
        shortcode="600000",
        backoff_s=0.05,
    )
    with serve(build(sim)) as url:
        yield sim, url


def setup_app(app: Any, sim_url: str, **over: Any) -> None:
    """Point the app's webhook at the simulator."""
    settings = MpesaSettings(
        callback_token=SecretStr(SECRET),
        api_url=sim_url,
        consumer_key="key",
        consumer_secret=SecretStr("secret"),
        shortcode="600000",
        operator="mpesa",
        **over,
    )
    payments.install(app, settings=settings)


@pytest.fixture
def paying(
    app: Any,
    engine: Engine,
    security_module: SoftwareSecurityModule,
    make_operator: Callable[..., tuple[Operator, str]],
    simulator: tuple[Simulator, str],
) -> Paying:
    """The app with mobile money against the simulator, and the wallet shop."""
    shop = make_wallet_shop(engine, security_module, make_operator)
    make_operator(Role.SUPERVISOR, username="mpesa")
    sim, url = simulator
    setup_app(app, url)
    return Paying(app=app, sim=sim, sim_url=url, shop=shop)


@pytest.fixture
def client(paying: Paying) -> Iterator[TestClient]:
    """An HTTP client on the app with mobile money set up (in this folder, the ``client``
    of every test: a payment test always wants the provider configured)."""
    with TestClient(paying.app) as c:
        yield c


def callback(client: httpx.Client | Any, txn: Txn, **changes: str) -> Any:
    """POST the simulator's confirmation body for ``txn`` (with ``changes``) to the webhook."""
    body = txn.callback_body("600000") | changes
    return client.post(CONFIRM, json=body)


def cancel(
    client: httpx.Client | Any,
    token: str,
    sale_id: int,
    *,
    reason: str = "paid for the wrong meter",
    **more: Any,
) -> Any:
    """Ask to cancel a sale as ``token``'s operator: the answer (``more``: the take-back's
    ``token_used`` and ``meter_credit``). The refund tests of both databases ask alike."""
    return client.post(
        f"/api/v1/sales/{sale_id}/cancel", json={"reason": reason, **more}, headers=auth(token)
    )


def counts(engine: Engine) -> dict[str, int]:
    """Sales and payments stored."""
    with make_sessionmaker(engine)() as s:
        return {
            "sales": int(s.execute(select(func.count()).select_from(Sale)).scalar_one()),
            "payments": int(s.execute(select(func.count()).select_from(Payment)).scalar_one()),
        }
