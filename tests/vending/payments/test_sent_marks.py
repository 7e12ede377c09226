"""A stopping server waits for the SMS sent marks already being written (payments.fast).

A batch of marks leaves the pending list when its write starts. If the server's
stop did not wait for that write, the app closed the pool under it and the
marks were lost: those SMS looked unsent, and the resend job could send them
again.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import Engine

from stsgas.vending.payments.fast import SentMarks
from stsgas.vending.sales.fast import SalePool
from stsgas.vending.sms.gateway import OutboundSms

pytestmark = pytest.mark.postgres


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_close_waits_for_the_marks_being_written(engine: Engine) -> None:
    """With the pool's one connection busy, a batch's write waits; close() returns only
    after that write is done, not while it is still waiting."""

    async def run() -> tuple[bool, bool]:
        dsn = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        pool = await SalePool.open(dsn, size=1)
        try:
            marks = SentMarks(pool, delay=0)
            held = await pool.pool.acquire()  # the write of the batch must wait for it
            marks.add(OutboundSms(to="+254700000001", text="Token 1234", reference="m-1"))
            for _ in range(20):  # the batch's write starts and waits on the pool
                await asyncio.sleep(0)
            closing = asyncio.create_task(marks.close())
            for _ in range(20):
                await asyncio.sleep(0)
            returned_early = closing.done()
            await pool.pool.release(held)
            await asyncio.wait_for(closing, 10)
            return returned_early, closing.done()
        finally:
            await pool.close()

    returned_early, finished = asyncio.run(run())
    assert not returned_early, "close() returned while a batch of marks was still being written"
    assert finished
