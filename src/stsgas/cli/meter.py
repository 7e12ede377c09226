"""``stsgas meter``: run a scenario, print the query code table, start or simulate a meter.

The heavy parts (Textual, the simulator) are imported only by the command that
uses them. Exit 0 done, 2 a scenario, config or NVM file that cannot be used.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer

from stsgas.cli import meter_simulate, meter_start, meter_web
from stsgas.cli._bars import console
from stsgas.cli._common import Format, FormatOption, wants_table
from stsgas.cli._errors import fail

__all__ = ["app", "codes_table"]

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Run a virtual meter, a scenario or a simulation. Exit 0 done, 2 a scenario, "
    "config or NVM file that cannot be used.",
)


@app.command(help="Run a JSON scenario (docs/scenarios.md) and print the JSON report.")
def run(
    file: Annotated[
        str, typer.Argument(metavar="FILE|-", help="The scenario file, or - for stdin.")
    ],
) -> None:
    from stsgas.meter.scenario import ScenarioError, run_scenario

    try:
        if file == "-":
            text = sys.stdin.read()
        else:
            with open(file, encoding="utf-8") as fh:
                text = fh.read()
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror}")
    except UnicodeDecodeError:
        fail(f"cannot read {file}: not UTF-8 text")
    try:
        doc: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        fail(f"{file}: not JSON: {exc}")
    try:
        report = run_scenario(doc)
    except ScenarioError as exc:
        fail(f"{file}: {exc}")
    print(json.dumps(report, indent=2))


def codes_table() -> str:
    """The query code table as text (also in docs/meter.md)."""
    from stsgas.meter.query import CODES

    return "\n".join(f"{code}  {what}" for code, (what, _) in CODES.items())


@app.command(help="Print the 2-digit query code table (a table on a terminal).")
def codes(fmt: FormatOption = Format.AUTO) -> None:
    from stsgas.meter.query import CODES

    if fmt is Format.JSON:
        print(json.dumps({code: what for code, (what, _) in CODES.items()}, indent=2))
        return
    if not wants_table(fmt):
        print("code  shows")
        print(codes_table())
        return
    from rich.table import Table

    table = Table(title="query codes: key the code, then #", title_justify="left")
    table.add_column("code", justify="right")
    table.add_column("the meter shows")
    for code, (what, _) in CODES.items():
        table.add_row(code, what)
    console().print(table)


@app.command(help="Print the valve state machine (Mermaid) and the lockout steps.")
def diagram() -> None:
    from stsgas.meter.diagram import lockout_table, valve_mermaid

    print(valve_mermaid())
    print()
    print(lockout_table())


app.command(
    name="start",
    help="Open a virtual meter in the terminal: LCD, keypad, LEDs, valve; its state is "
    "kept in an encrypted NVM file.",
)(meter_start.start)
app.command(
    name="simulate",
    help="Simulate household meters over years: consumption, recharges, alarms.",
)(meter_simulate.simulate)
app.command(
    name="web",
    help="Open the virtual meters in a browser page (LCD, keypad, LEDs, valve, battery, "
    "magnet, gas and time); their state is kept in NVM files in --state.",
)(meter_web.web)
