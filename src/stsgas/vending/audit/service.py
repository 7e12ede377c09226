"""Write and verify the audit chain.

Each entry's ``hash`` is SHA-256 over the previous hash and a canonical JSON
of the entry (seq, time, actor, action, object, data). Changing, deleting or
reordering any entry breaks every later hash, which :func:`verify_chain`
finds. Services call :func:`record` in the same transaction as the change,
so the log holds exactly the committed changes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy.orm import Session

from stsgas.vending.audit.repository import AuditRepository
from stsgas.vending.models import AuditEntry, Operator, utcnow

GENESIS = "0" * 64


def _digest(
    prev_hash: str,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    data: dict[str, Any],
) -> str:
    body = orjson.dumps(
        {
            "seq": seq,
            "at": at.isoformat(timespec="microseconds"),
            "actor": actor,
            "action": action,
            "object_type": object_type,
            "object_id": object_id,
            "data": data,
        },
        option=orjson.OPT_SORT_KEYS,
    )
    return hashlib.sha256(prev_hash.encode() + body).hexdigest()


def record(
    session: Session,
    *,
    actor: Operator | None,
    action: str,
    object_type: str,
    object_id: str | int = "",
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    """Append one entry for a change made in this transaction.

    ``data`` must be JSON-serialisable and must never hold secrets.
    """
    repo = AuditRepository(session)
    repo.lock_head()
    head = repo.head()
    seq = 1 if head is None else head.seq + 1
    prev = GENESIS if head is None else head.hash
    when = at or utcnow()
    payload = orjson.loads(orjson.dumps(data or {}, default=str))
    actor_name = actor.username if actor is not None else "system"
    entry = AuditEntry(
        seq=seq,
        at=when,
        actor_id=actor.id if actor is not None else None,
        actor=actor_name,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        data=payload,
        prev_hash=prev,
        hash=_digest(prev, seq, when, actor_name, action, object_type, str(object_id), payload),
    )
    return repo.create(entry, flush=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class ChainReport:
    """Result of :func:`verify_chain`: ``ok`` and the first bad ``seq`` if not."""

    ok: bool
    entries: int
    first_bad_seq: int | None = None
    reason: str = ""


def verify_chain(session: Session) -> ChainReport:
    """Recompute every hash in order; report the first entry that does not match."""
    prev = GENESIS
    expected_seq = 1
    count = 0
    for e in AuditRepository(session).iter_chain():
        count += 1
        if e.seq != expected_seq:
            return ChainReport(ok=False, entries=count, first_bad_seq=e.seq, reason="gap")
        if e.prev_hash != prev:
            return ChainReport(ok=False, entries=count, first_bad_seq=e.seq, reason="link")
        digest = _digest(prev, e.seq, e.at, e.actor, e.action, e.object_type, e.object_id, e.data)
        if digest != e.hash:
            return ChainReport(ok=False, entries=count, first_bad_seq=e.seq, reason="hash")
        prev = e.hash
        expected_seq += 1
    return ChainReport(ok=True, entries=count)
