"""The audit log is hash-chained: any edit, deletion or reorder is detected."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from stsgas.vending.audit import service as audit
from stsgas.vending.db import make_sessionmaker
from stsgas.vending.models import AuditEntry
from tests.vending.conftest import auth


def _three(session: Session) -> None:
    for i in range(3):
        audit.record(
            session,
            actor=None,
            action="thing.change",
            object_type="thing",
            object_id=i,
            data={"n": i},
        )
    session.commit()


def test_chain_of_fresh_entries_verifies(session: Session) -> None:
    """Entries written in order form a valid chain with consecutive seq."""
    _three(session)
    report = audit.verify_chain(session)
    assert report.ok
    assert report.entries == 3
    seqs = session.execute(select(AuditEntry.seq).order_by(AuditEntry.seq)).scalars().all()
    assert seqs == [1, 2, 3]


def test_edited_entry_breaks_the_chain(session: Session) -> None:
    """Changing an old entry's data is found at that entry."""
    _three(session)
    session.execute(update(AuditEntry).where(AuditEntry.seq == 2).values(data={"n": 99}))
    session.commit()
    report = audit.verify_chain(session)
    assert not report.ok
    assert report.first_bad_seq == 2
    assert report.reason == "hash"


def test_deleted_entry_breaks_the_chain(session: Session) -> None:
    """Removing an entry leaves a gap that verification reports."""
    _three(session)
    session.delete(session.execute(select(AuditEntry).where(AuditEntry.seq == 2)).scalar_one())
    session.commit()
    report = audit.verify_chain(session)
    assert not report.ok
    assert report.first_bad_seq == 3


def test_auditor_reads_and_verifies_over_http(client: TestClient, auditor_token: str) -> None:
    """An auditor lists entries and gets ok from /audit/verify; a cashier gets 403."""
    r = client.get("/api/v1/audit", headers=auth(auditor_token))
    assert r.status_code == 200
    assert r.json()[0]["action"] == "operator.create"
    assert client.get("/api/v1/audit/verify", headers=auth(auditor_token)).json()["ok"] is True


def test_cashier_cannot_read_the_audit_log(client: TestClient, cashier_token: str) -> None:
    """Reading the audit log is refused to a cashier."""
    r = client.get("/api/v1/audit", headers=auth(cashier_token))
    assert r.status_code == 403
    assert r.json()["code"] == "forbidden"


def test_concurrent_writers_keep_one_valid_chain(engine: Engine) -> None:
    """Eight threads appending at once leave a gap-free chain that verifies."""
    factory = make_sessionmaker(engine)

    def write(n: int) -> None:
        for i in range(5):
            with factory.begin() as s:
                audit.record(s, actor=None, action="race", object_type="t", object_id=f"{n}-{i}")

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(write, range(8)))
    with factory() as s:
        report = audit.verify_chain(s)
    assert (report.ok, report.entries) == (True, 40)
