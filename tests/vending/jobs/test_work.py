"""The job functions on SQLite and PostgreSQL: the integrity check passes on a sound
database and fails (not retryable) on a tampered one; key warnings name the group; a stored
reply is resent once and a refusal is a retryable failure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, update

from stsgas.vending.db import make_sessionmaker
from stsgas.vending.jobs import work
from stsgas.vending.models import AuditEntry, Sale, SupplyGroup
from stsgas.vending.sms.gateway import MemorySmsGateway, OutboundSms, SmsGateway, SmsGatewayError
from tests.vending.jobs.conftest import reply_sent, store_unsent_reply
from tests.vending.sales.conftest import Shop
from tests.vending.sales.test_service import sell

PHONE = "+255700000009"


class RefusingGateway(SmsGateway):
    """A gateway that refuses every message."""

    def send(self, message: OutboundSms) -> None:
        raise SmsGatewayError("gateway answered 503")


def test_integrity_check_passes_then_fails_on_tampering(
    client: TestClient, shop: Shop, engine: Engine
) -> None:
    """A sound database passes; a sale changed behind the service or an audit entry
    edited makes the job fail with ``integrity_broken``, which no retry can mend."""
    r = sell(client, shop.cashier_token, shop.volume_pan, "10")
    assert r.status_code == 201
    sm = make_sessionmaker(engine)
    assert work.integrity_check(sm)["ok"] is True
    with sm.begin() as s:
        s.execute(
            update(Sale)
            .where(Sale.id == r.json()["sale_id"])
            .values(energy_amount=Sale.energy_amount + 1, tax=Sale.tax - 1)
        )
    with pytest.raises(work.IntegrityBroken, match="meters_with_broken_sales_chain") as caught:
        work.integrity_check(sm)
    assert not caught.value.retryable
    with sm.begin() as s:
        s.execute(update(AuditEntry).where(AuditEntry.seq == 1).values(action="tampered"))
    with pytest.raises(work.IntegrityBroken, match="audit_chain"):
        work.integrity_check(sm)


def test_key_warnings_name_the_group(shop: Shop, engine: Engine) -> None:
    """A vending key that runs out inside the window is warned about, by group; one that
    ran out is marked expired; outside the window nothing is said."""
    sm = make_sessionmaker(engine)
    now = datetime(2030, 1, 1, tzinfo=UTC)
    with sm.begin() as s:
        sg = s.get(SupplyGroup, shop.group_id)
        assert sg is not None
        sg.key_expires_at = now + timedelta(days=10)
        sgc = sg.sgc
    found = work.key_expiry_warnings(sm, now=now, window=timedelta(days=30))
    assert [(w.sgc, w.code, w.expired) for w in found] == [(sgc, "vending_key_expiring", False)]
    later = work.key_expiry_warnings(sm, now=now + timedelta(days=11), window=timedelta(days=30))
    assert [(w.code, w.expired) for w in later] == [("vending_key_expired", True)]
    assert work.key_expiry_warnings(sm, now=now, window=timedelta(days=5)) == []


def test_resend_sends_a_stored_reply_once(engine: Engine) -> None:
    """The stored unsent reply goes out once and is marked sent; a second run sends
    nothing; an unknown message is "gone"; a refusal is a retryable SmsNotSent."""
    sm = make_sessionmaker(engine)
    store_unsent_reply(sm, phone=PHONE, reference="r-1")
    with pytest.raises(work.SmsNotSent) as caught:
        work.resend_sms_reply(sm, RefusingGateway(), to=PHONE, reference="r-1")
    assert caught.value.retryable
    assert not reply_sent(sm, phone=PHONE, reference="r-1")
    gateway = MemorySmsGateway()
    assert work.resend_sms_reply(sm, gateway, to=PHONE, reference="r-1") == "sent"
    assert work.resend_sms_reply(sm, gateway, to=PHONE, reference="r-1") == "already_sent"
    assert gateway.sent == [OutboundSms(to=PHONE, text="reply to r-1", reference="r-1")]
    assert reply_sent(sm, phone=PHONE, reference="r-1")
    assert work.resend_sms_reply(sm, gateway, to=PHONE, reference="nope") == "gone"
