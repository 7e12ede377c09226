"""The job functions: what each scheduled or retried job does, on a sessionmaker.

They hold no scheduling: the queue (PostgreSQL) or the server's thread
(SQLite) calls them and decides about retries from the error raised
(:class:`JobFailed` says whether a retry can help).
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

from sqlalchemy.orm import Session, sessionmaker

from stsgas.vending.audit.service import verify_chain
from stsgas.vending.delivery.service import deliver, missed
from stsgas.vending.errors import VendingError
from stsgas.vending.reports.service import reconciliation
from stsgas.vending.sms import repository as sms_repo
from stsgas.vending.sms import service as sms
from stsgas.vending.sms.gateway import OutboundSms, SmsGateway, SmsGatewayError
from stsgas.vending.supply_groups.repository import SupplyGroupRepository
from stsgas.vending.supply_groups.service import warnings_for

__all__ = [
    "IntegrityBroken",
    "JobFailed",
    "SmsNotSent",
    "integrity_check",
    "integrity_report",
    "key_expiry_warnings",
    "resend_sms_reply",
    "sweep_token_sms",
]

log = logging.getLogger("stsgas.vending.jobs")


class JobFailed(VendingError):
    """A job did not do its work; ``retryable`` says whether running it again may help."""

    code = "job_failed"
    status_code = 500
    title = "Job failed"
    retryable: ClassVar[bool] = False


class IntegrityBroken(JobFailed):
    """The integrity check found a broken ledger, token count or hash chain (no retry:
    the same data gives the same answer; a person must look)."""

    code = "integrity_broken"


class SmsNotSent(JobFailed):
    """The SMS gateway did not accept a stored reply (retried: the gateway may be back)."""

    code = "sms_not_sent"
    retryable = True


def integrity_report(session: Session) -> dict[str, Any]:
    """The report of ``stsgas check``: reconciliation and the audit hash chain."""
    report = reconciliation(session)
    audit = verify_chain(session)
    report["audit_chain"] = {
        "ok": audit.ok,
        "entries": audit.entries,
        "first_bad_seq": audit.first_bad_seq,
        "reason": audit.reason,
    }
    report["ok"] = bool(report["ok"] and audit.ok)
    return report


def _broken_parts(report: dict[str, Any]) -> list[str]:
    """The names of the report's failed checks."""
    parts = [
        name
        for name in (
            "unbalanced_journals",
            "sales_without_one_credit_token",
            "sales_with_wrong_journal",
            "meters_with_broken_sales_chain",
            "wallets_off_ledger",
        )
        if report.get(name)
    ]
    if report["ledger_debits"] != report["ledger_credits"]:
        parts.append("ledger_totals")
    if not report["audit_chain"]["ok"]:
        parts.append("audit_chain")
    return parts


def integrity_check(sm: sessionmaker[Session]) -> dict[str, Any]:
    """The daily check: log the outcome; raise :class:`IntegrityBroken` when it fails,
    so the job is listed as failed for someone to look at."""
    with sm() as session:
        report = integrity_report(session)
    if not report["ok"]:
        broken = _broken_parts(report)
        log.error("integrity check failed", extra={"job": "integrity_check", "broken": broken})
        raise IntegrityBroken(f"the integrity check failed: {', '.join(broken) or 'see report'}")
    log.info("integrity check passed", extra={"job": "integrity_check"})
    return report


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupWarning:
    """One key warning of one supply group."""

    sgc: str
    krn: int
    code: str
    message: str
    expired: bool


def key_expiry_warnings(
    sm: sessionmaker[Session], *, now: datetime, window: timedelta
) -> list[GroupWarning]:
    """Log every supply group's vending-key, KEN and base-date warning (an expired one
    as an error); return them."""
    found: list[GroupWarning] = []
    with sm() as session:
        for group in SupplyGroupRepository(session).all():
            for w in warnings_for(group, window=window, now=now):
                found.append(
                    GroupWarning(
                        sgc=group.sgc,
                        krn=group.krn,
                        code=w.code,
                        message=w.message,
                        expired=w.expired,
                    )
                )
    for g in found:
        log.log(
            logging.ERROR if g.expired else logging.WARNING,
            f"supply group {g.sgc}/KRN {g.krn}: {g.message}",
            extra={"job": "key_warnings", "sgc": g.sgc, "krn": g.krn, "warning": g.code},
        )
    if not found:
        log.info("no key or base date runs out soon", extra={"job": "key_warnings"})
    return found


def resend_sms_reply(
    sm: sessionmaker[Session], gateway: SmsGateway, *, to: str, reference: str
) -> str:
    """Send the stored reply to inbound message ``reference`` from ``to`` if it is still
    unsent: "sent", "already_sent" or "gone" (no stored reply). Raises
    :class:`SmsNotSent` when the gateway refuses it again."""
    msg = sms.Inbound(phone=to, text="", message_id=reference)
    with sm() as session:
        record = sms_repo.get_record(session, msg.scope, reference)
        body = None if record is None else record.response_body
    if not body or not body.get("reply"):
        return "gone"
    if body.get("sent"):
        return "already_sent"
    try:
        gateway.send(OutboundSms(to=to, text=str(body["reply"]), reference=reference))
    except SmsGatewayError as exc:
        raise SmsNotSent(f"the reply to message {reference} was not sent: {exc}") from exc
    sms.mark_sent(sm, msg)
    log.info("stored SMS reply sent", extra={"job": "sms_reply", "reference": reference})
    return "sent"


def sweep_token_sms(
    sm: sessionmaker[Session], gateway: SmsGateway, *, now: datetime, window: timedelta
) -> dict[str, int]:
    """Send the token SMS that sales of the last ``window`` never put in the outbox (their
    server stopped between the sale's commit and its outbox record); how many of each
    outcome of :func:`~stsgas.vending.delivery.service.deliver`.

    The outbox record is the once-guard: a sale already delivered, or delivered by
    another worker sweeping at the same time, answers "already" and sends nothing.
    A refusal stays in the outbox unsent; ``gateway`` (wrapped by the runner) queues
    its resend, so the sweep itself never fails for the gateway."""
    outcomes: Counter[str] = Counter()
    for receipt in missed(sm, since=now - window):
        outcomes[deliver(sm, gateway, receipt, now=now)] += 1
    if outcomes:
        log.warning(
            "token SMS left out of the outbox found by the sweep",
            extra={"job": "token_sms_sweep", "outcomes": dict(outcomes)},
        )
    return dict(outcomes)
