"""``stsgas check``: the daily integrity check of a vending database (V5), for cron.

Runs the reconciliation (ledger balanced, one credit token per sale, each
sale's journal, every meter's sales chain) and verifies the audit hash chain.
Exit 0 all checks hold, 1 a check failed, 2 the database could not be read
(bad URL, no such file, not migrated, unreachable): 1 always means the ledger
or a chain is broken, never that the check could not look.
"""

from __future__ import annotations

import json
from typing import Any

import typer

from stsgas.cli._bars import console
from stsgas.cli._common import DatabaseOption, Format, FormatOption, database_url
from stsgas.cli._errors import FOUND, existing_database, read_database

app = typer.Typer(add_completion=False)


def _table(report: dict[str, Any]) -> None:
    from rich.table import Table

    def verdict(good: bool) -> str:
        return "[green]ok[/green]" if good else "[bold red]BROKEN[/bold red]"

    audit = report["audit_chain"]
    rows = [
        (
            "ledger balanced",
            report["ledger_debits"] == report["ledger_credits"]
            and not report["unbalanced_journals"],
            f"debits {report['ledger_debits']}, credits {report['ledger_credits']}, "
            f"unbalanced journals {report['unbalanced_journals'] or 'none'}",
        ),
        (
            "one credit token per sale",
            not report["sales_without_one_credit_token"],
            f"{report['credit_tokens']} tokens; sales without one: "
            f"{report['sales_without_one_credit_token'] or 'none'}",
        ),
        (
            "each sale's journal",
            not report["sales_with_wrong_journal"],
            f"wrong: {report['sales_with_wrong_journal'] or 'none'}",
        ),
        (
            "sales hash chains",
            not report["meters_with_broken_sales_chain"],
            f"broken meters: {report['meters_with_broken_sales_chain'] or 'none'}",
        ),
        (
            "wallets against the ledger",
            not report.get("wallets_off_ledger"),
            f"off: {report.get('wallets_off_ledger') or 'none'}",
        ),
        (
            "audit hash chain",
            audit["ok"],
            f"{audit['entries']} entries"
            + ("" if audit["ok"] else f"; first bad {audit['first_bad_seq']} ({audit['reason']})"),
        ),
    ]
    table = Table(title="stsgas check", title_justify="left")
    table.add_column("check")
    table.add_column("result")
    table.add_column("details", overflow="fold")
    for name, good, details in rows:
        table.add_row(name, verdict(bool(good)), details)
    out = console()
    out.print(table)
    out.print(f"database {verdict(bool(report['ok']))}")


@app.command(
    name="check",
    help="Check the vending database's ledger, tokens per sale and hash chains. "
    "Exit 0 sound, 1 broken, 2 the database could not be read.",
)
def check(database: DatabaseOption = None, fmt: FormatOption = Format.AUTO) -> None:
    from stsgas.cli._common import wants_table

    db = existing_database(database_url(database))
    from stsgas.vending.jobs.work import integrity_report

    report = read_database(db, integrity_report)
    if wants_table(fmt):
        _table(report)
    else:
        print(json.dumps(report, indent=2))
    if not report["ok"]:
        raise typer.Exit(FOUND)
