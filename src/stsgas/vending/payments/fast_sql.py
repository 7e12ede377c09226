"""The event-loop payment path's SQL: four round trips a payment, not seven.

A callback's transaction used to be ``BEGIN``, store the report, lock the
meter, write the sale, put the change into the wallet, mark the payment sold,
``COMMIT``: each a round trip that costs the server's event loop and a
PostgreSQL backend a wake-up (about a third of the CPU a callback cost both,
``docs/benchmarks.md``). Here the report is stored in the statement that
locks the meter, and the sale's write carries the change, the sold mark and
the SMS outbox row: ``BEGIN``, :data:`RECORD_LOCK`, :data:`WRITE_SOLD`,
``COMMIT``.

Both are the sale's own statements (:mod:`stsgas.vending.sales.pg`) with the
payment's parts around them, so the meter is locked and the sale written
exactly as any other sale: :class:`.fast.PaymentStore` answers the sale
pipeline's lock and write with them. The texts are in ``%(name)s`` style, as
the sale's store takes them.
"""

from __future__ import annotations

from typing import Final

from stsgas.vending.sales import pg, store_pg

__all__ = ["FIND_LOCKED", "MARK_SENT", "RECORD_LOCK", "WRITE_SOLD"]

#: the phone of the customer the reference's meter is linked to (where the SMS goes)
_OWNER_PHONE = """
(SELECT c.phone FROM meters m
   JOIN customer_meters cm ON cm.meter_id = m.id AND cm.active = 1
   JOIN customers c ON c.id = cm.customer_id
 WHERE m.pan = {reference})
"""

#: the report stored (``ON CONFLICT DO NOTHING``: a twin waits here on the first one's
#: row, then gets no row) and, only when it is new, the seller found and the meter
#: locked and read by the sale's own lock statement: the lateral join runs after the
#: insert, so a twin never holds the meter while it waits on the payment row
RECORD_LOCK: Final = f"""
WITH n AS (
    INSERT INTO payments (provider, txn_id, amount, reference, phone, state, detail,
                          received_at)
    VALUES (%(pay_provider)s, %(pay_txn_id)s, %(pay_amount)s, %(number)s, %(pay_phone)s,
            'received', '', %(now)s)
    ON CONFLICT (provider, txn_id) DO NOTHING
    RETURNING id, {_OWNER_PHONE.format(reference="%(number)s")}
)
SELECT n.*, x.* FROM n LEFT JOIN LATERAL ({pg.SELLER_LOCK}) x ON true
"""
#: the payment's columns before the sale lock's (its id, its owner's phone)
PAY_COLUMNS: Final = 2

#: a twin's view of the payment once the first callback's transaction has ended
FIND_LOCKED: Final = f"""
SELECT p.id, p.state, p.sale_id, p.detail, p.verified_at IS NOT NULL, p.amount, p.reference,
       p.phone, {_OWNER_PHONE.format(reference="p.reference")}
FROM payments p WHERE p.provider = $1 AND p.txn_id = $2 FOR UPDATE
"""

#: after the sale's writes: the change into the customer's wallet with its journal (the
#: one wallet credit of ``sales.pg``, whose accounts may include one the sale's ``acc``
#: makes in this very statement; nothing when there is no change), the payment marked
#: sold, its SMS kept in the outbox (when it has a phone to go to)
_PAYMENT_CTES = (
    ","
    + pg.credit_wallet_ctes(made="acc")
    + """,
pay_sold AS (
    UPDATE payments SET state = 'sold', sale_id = %(id)s, customer_id = %(pay_customer)s,
                        detail = %(pay_detail)s, verified_at = %(pay_now)s
    WHERE id = %(pay_id)s),
pay_outbox AS (
    INSERT INTO idempotency_records
        (scope, key, fingerprint, state, response_status, response_body, created_at,
         updated_at)
    SELECT %(pay_scope)s::text, %(pay_ref)s::text, %(pay_fingerprint)s::text, 'done', 200,
           %(pay_sms)s::json, %(pay_now)s, %(pay_now)s
    WHERE %(pay_scope)s::text IS NOT NULL)
"""
)


def _write_sold() -> str:
    """The sale's write statement with the payment's CTEs before its final select, and
    one more column: how many lines of the change's journal were posted."""
    head, sep, tail = store_pg.WRITE.rpartition("\nSELECT ")
    assert sep, "the sale's write statement ends in a SELECT"
    assert "\nacc AS (" in head, "the sale's write makes missing accounts in its acc CTE"
    return (
        head.rstrip()
        + _PAYMENT_CTES
        + sep
        + tail.rstrip()
        + ",\n       (SELECT count(*) FROM credit_led)\n"
    )


WRITE_SOLD: Final = _write_sold()

MARK_SENT: Final = """
UPDATE idempotency_records r SET response_body = v.body::json, updated_at = $4
FROM unnest($1::text[], $2::text[], $3::text[]) AS v (scope, key, body)
WHERE r.scope = v.scope AND r.key = v.key
"""
