"""The meter options of ``stsgas token credit`` and ``keychange``, each with its help.

One place for the option declarations the two commands share, so the token
front (``cli/token.py``) stays a list of commands.
"""

from __future__ import annotations

from typing import Annotated

import typer

Pan = Annotated[
    str | None,
    typer.Option("--pan", help="18-digit meter PAN with its check digit (or --iin and --drn)."),
]
Iin = Annotated[
    str | None, typer.Option("--iin", help="Issuer identification number (with --drn).")
]
Drn = Annotated[str | None, typer.Option("--drn", help="Decoder reference number (with --iin).")]
KeyType = Annotated[int, typer.Option("--key-type", min=0, max=3, help="Decoder key type.")]
Sgc = Annotated[str, typer.Option("--sgc", help="Supply group code, 6 digits.")]
Ti = Annotated[str, typer.Option("--ti", help="Tariff index, 2 digits.")]
Krn = Annotated[int, typer.Option("--krn", min=1, max=9, help="Key revision number.")]
Ken = Annotated[int, typer.Option("--ken", min=0, max=255, help="Key expiry number (255: never).")]
BaseDate = Annotated[str, typer.Option("--base-date", help="Base date: 1993, 2014 or 2035.")]
Ea = Annotated[str, typer.Option("--ea", help="Encryption algorithm: 07 STA, 09 DEA, 11 MISTY1.")]
Dkga = Annotated[
    str | None,
    typer.Option("--dkga", help="Decoder key generation algorithm 02 or 04 (with --vending-key)."),
]
VendingKey = Annotated[
    str | None, typer.Option("--vending-key", help="Vending key in hex (with --dkga).")
]
DecoderKey = Annotated[
    str | None,
    typer.Option("--decoder-key", help="Decoder key in hex, instead of --dkga and --vending-key."),
]


def new(name: str) -> object:
    """The ``--new-NAME`` option of a key change: a new value, default unchanged."""
    return typer.Option(f"--new-{name}", help=f"New {name} (default: unchanged).")
