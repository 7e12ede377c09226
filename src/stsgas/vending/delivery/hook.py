"""The after-sale hook: a committed sale's receipt goes to the token SMS sender.

A sale notes its receipt on the session (:func:`sold`, called by the sale
service inside the sale's transaction); when that transaction commits, the
app's listener hands the receipts to a small thread pool, which runs
:func:`.service.deliver` after the answer is on its way. A rolled back attempt
(a retry, a refusal) drops its notes, so only committed sales are sent and a
failed SMS can never undo or delay a sale. The event-loop sale path commits on
its own connection and calls :func:`hand_off` itself after its COMMIT.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from fastapi import FastAPI
from sqlalchemy import event, select
from sqlalchemy.orm import Session, sessionmaker

from stsgas.vending.delivery.service import deliver, missed
from stsgas.vending.models import Customer
from stsgas.vending.sales.receipts import Receipt
from stsgas.vending.sms.gateway import SmsGateway

__all__ = ["QUIET_SECONDS", "Deliverer", "hand_off", "install", "opted_in", "sold"]

log = logging.getLogger("stsgas.vending.delivery")
_KEY: Final = "stsgas.sold"
#: set in the ``info`` of the sessions of a sessionmaker whose commits are listened to
_ON: Final = "stsgas.delivery"
#: how long "no customer has opted in" is believed before the database is asked again
QUIET_SECONDS: Final = 5.0
#: how far back a starting server looks for committed sales whose token SMS never
#: reached the outbox (the server before it stopped between the two)
CATCH_UP: Final = timedelta(hours=1)


def sold(session: Session, receipt: Receipt) -> None:
    """Note a sale made in the session's transaction; its SMS goes after the commit.

    Sessions nobody listens to (a command-line tool, a benchmark) note nothing, so a
    long-lived one does not pile up receipts."""
    if session.info.get(_ON):
        session.info.setdefault(_KEY, []).append(receipt)


class Deliverer:
    """Runs :func:`deliver` for committed sales on a pool of two threads.

    The first time it finds a customer opted in, it also sends what sales of the
    last hour left out of the outbox (:func:`.service.missed`: a server stopped
    between a sale's commit and its outbox record).

    While no customer at all has opted in (asked again at most every
    ``quiet_seconds``), sales are not looked at, so a system without token SMS
    pays nothing per sale. Sales made while the question is out (a server's
    first, and one each ``quiet_seconds``) are held and sent once the answer is
    yes, dropped if it is no: a server's first seconds used to send every sale
    to :func:`deliver` until the answer came (hundreds, on a busy server, each a
    query and a thread woken beside the sales). An opt-in through this server's
    API (:func:`opted_in`) counts at once; one made through another worker
    process, within ``quiet_seconds``.
    """

    def __init__(
        self,
        sm: sessionmaker[Session],
        gateway: Callable[[], SmsGateway],
        *,
        quiet_seconds: float = QUIET_SECONDS,
    ) -> None:
        self._sm = sm
        self._gateway = gateway
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="stsgas-delivery")
        self._pending: set[Future[str]] = set()
        self._lock = threading.Lock()
        self._quiet = quiet_seconds
        #: whether any customer has opted in: None until first asked
        self._anyone: bool | None = None
        self._asked_at = -math.inf
        self._asking = False
        self._opted_at = -math.inf
        #: sales made while the question is out, with nobody known to want them
        self._held: list[Receipt] = []
        self._caught_up = False

    def submit(self, receipt: Receipt) -> None:
        """Send the sale's token SMS soon (in another thread), if anyone wants SMS."""
        now = time.monotonic()
        with self._lock:
            ask = not self._asking and now - self._asked_at >= self._quiet
            if ask:
                self._asked_at = now
                self._asking = True
            anyone = self._anyone
            if anyone is not True and self._asking:
                self._held.append(receipt)  # the answer says whether it goes
        if ask:
            self._track(self._pool.submit(self._ask, now))
        if anyone is True:
            self._track(self._pool.submit(self._run, receipt))

    def opted_in(self) -> None:
        """A customer has just opted in: look at every sale again."""
        with self._lock:
            self._anyone = True
            self._asked_at = self._opted_at = time.monotonic()

    def _ask(self, started: float) -> str:
        try:
            with self._sm() as s:
                row = s.execute(
                    select(Customer.id).where(Customer.sms_tokens.is_(True)).limit(1)
                ).first()
            anyone = row is not None
        except Exception:  # a database hiccup: keep looking at sales
            log.exception("cannot tell whether any customer wants token SMS")
            anyone = True
        with self._lock:
            # an opt-in after the question went out is newer than its answer
            anyone = anyone or self._opted_at >= started
            self._anyone = anyone
            self._asking = False
            held, self._held = self._held, []
            catch_up = anyone and not self._caught_up
            self._caught_up = self._caught_up or catch_up
        if catch_up:
            self._catch_up()
        if anyone:
            for receipt in held:  # deliver() sends each at most once
                self._run(receipt)
        return "asked"

    def _catch_up(self) -> None:
        """Once per server: deliver what the last hour's sales left out of the outbox."""
        try:
            late = missed(self._sm, since=datetime.now(UTC) - CATCH_UP)
        except Exception:
            log.exception("cannot look for token SMS left out")
            return
        if late:
            log.warning("token SMS left out before a restart", extra={"sales": len(late)})
        for receipt in late:
            self._run(receipt)

    def _track(self, future: Future[str]) -> None:
        with self._lock:
            self._pending.add(future)
        future.add_done_callback(self._done)

    def _done(self, future: Future[str]) -> None:
        with self._lock:
            self._pending.discard(future)

    def _run(self, receipt: Receipt) -> str:
        try:
            return deliver(self._sm, self._gateway(), receipt, now=datetime.now(UTC))
        except Exception:  # the sale is committed; the SMS is best effort beyond the outbox
            log.exception("token SMS not handled", extra={"sale_id": receipt.sale_id})
            return "error"

    def drain(self, timeout: float = 10.0) -> None:
        """Wait for the sends under way (tests, shutdown)."""
        with self._lock:
            pending = set(self._pending)
        wait(pending, timeout=timeout)


def opted_in(state: Any) -> None:
    """A customer opted in through this server (the customers API): count it at once."""
    deliverer: Deliverer | None = getattr(state, "delivery", None)
    if deliverer is not None:
        deliverer.opted_in()


def hand_off(state: Any, receipt: Receipt) -> None:
    """After a commit made outside the app's sessions: queue the sale's token SMS."""
    deliverer: Deliverer | None = getattr(state, "delivery", None)
    if deliverer is not None:
        deliverer.submit(receipt)


def install(app: FastAPI) -> None:
    """Listen for the commits of the app's sessions; ``app.state.delivery`` sends.

    Call after the SMS channel (and the jobs, which wrap its gateway for retries).
    """
    sm: sessionmaker[Session] = app.state.sessionmaker
    deliverer = Deliverer(sm, lambda: app.state.sms_gateway)
    app.state.delivery = deliverer

    def committed(session: Session) -> None:
        for receipt in session.info.pop(_KEY, ()):
            deliverer.submit(receipt)

    def rolled_back(session: Session) -> None:
        session.info.pop(_KEY, None)

    event.listen(sm, "after_commit", committed)
    event.listen(sm, "after_rollback", rolled_back)
    sm.configure(info={**sm.kw.get("info", {}), _ON: True})
