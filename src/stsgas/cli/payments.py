"""``stsgas payments``: the mobile-money simulator, a simulated payment, reconciliation.

``simulate`` runs the local provider stand-in (``python -m stsgas.paysim``)
until interrupted; ``pay`` asks a running simulator to have a customer pay;
``reconcile`` lists payments that became neither a sale nor a top-up,
mobile-money sales that no payment names and refunds owed to mobile-money
payers not yet paid back (exit 1 when there are any).
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from stsgas.cli._common import DatabaseOption, database_url
from stsgas.cli._errors import FOUND, existing_database, fail, read_database

app = typer.Typer(add_completion=False, help="Mobile money: simulator and reconciliation.")


@app.command(help="Run the mobile-money simulator (M-Pesa C2B shaped) until interrupted.")
def simulate(
    callback: Annotated[str, typer.Option(help="The merchant's confirmation URL.")],
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8600,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    consumer_key: Annotated[str, typer.Option(help="OAuth consumer key.")] = "sim-key",
    consumer_secret: Annotated[str, typer.Option(help="OAuth consumer secret.")] = "sim-secret",
    shortcode: Annotated[str, typer.Option(help="The paybill number.")] = "600000",
    attempts: Annotated[int, typer.Option(min=1, help="Callback deliveries per payment.")] = 6,
) -> None:
    from stsgas.paysim.__main__ import main

    raise typer.Exit(
        main(
            [
                f"--callback={callback}",
                f"--port={port}",
                f"--host={host}",
                f"--consumer-key={consumer_key}",
                f"--consumer-secret={consumer_secret}",
                f"--shortcode={shortcode}",
                f"--attempts={attempts}",
            ]
        )
    )


@app.command(help="Have a customer pay through a running simulator; prints the TransID.")
def pay(
    account: Annotated[str, typer.Option(help="Meter number or customer account.")],
    amount: Annotated[str, typer.Option(help="Amount paid, e.g. 25.00.")],
    phone: Annotated[str, typer.Option(help="The payer's phone number.")] = "254700000001",
    sim: Annotated[str, typer.Option(help="The simulator's URL.")] = "http://127.0.0.1:8600",
) -> None:
    import httpx

    try:
        r = httpx.post(
            sim.rstrip("/") + "/pay",
            json={"account": account, "amount": amount, "phone": phone},
            timeout=10.0,
        )
    except httpx.HTTPError as exc:
        fail(f"cannot reach the simulator at {sim}: {exc}")
    if r.status_code != 200:
        fail(f"the simulator refused the payment: {r.text.strip()}")
    print(r.json()["TransID"])


@app.command(
    help="List unmatched payments and sales, and refunds owed to payers. "
    "Exit 0 none, 1 some, 2 no database."
)
def reconcile(database: DatabaseOption = None) -> None:
    from stsgas.vending.payments.reconcile import orphans

    found = read_database(existing_database(database_url(database)), orphans)
    doc = {
        "payments_without_sale": [
            {"id": p.id, "txn_id": p.txn_id, "amount": p.amount, "detail": p.detail}
            for p in found.payments
        ],
        "sales_without_payment": [{"id": s.id, "amount_paid": s.amount_paid} for s in found.sales],
        "refunds_owed": [
            {
                "id": r.id,
                "sale_id": r.sale_id,
                "payment_id": r.payment_id,
                "amount": r.amount,
                "phone": r.phone,
                "owed_at": r.owed_at.isoformat(),
            }
            for r in found.refunds_owed
        ],
    }
    print(json.dumps(doc, indent=2))
    if found.payments or found.sales or found.refunds_owed:
        raise typer.Exit(FOUND)
