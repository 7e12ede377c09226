"""``stsgas init``: set up a live install (database, master key, first admin).

Migrates the database to head, creates the master key file (0600) or checks an
existing one against the database's vending keys, creates the first admin and
writes ``stsgas.env`` (0600) beside the key with the settings ``stsgas serve``
needs. Exit 0 done; 2 refused (bad input, password too short or typed
differently twice, bad or unreachable database, a key that does not open the
database's keys, an unknown time zone); 3 the database already has an admin.
"""

from __future__ import annotations

import getpass
from pathlib import Path
from types import SimpleNamespace
from typing import Annotated

import typer

from stsgas.cli._errors import fail, parse_database

app = typer.Typer(add_completion=False)


def _password(path: Path | None) -> str:
    from stsgas.vending.install import InstallRefused

    if path is not None:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise InstallRefused(f"cannot read the password file {path}: {exc.strerror}") from None
        return lines[0] if lines else ""
    first = getpass.getpass("password for the first admin: ")
    if getpass.getpass("the same password again: ") != first:
        raise InstallRefused("the two passwords differ")
    return first


@app.command(
    name="init",
    help="Set up a live install: migrate the database, create the master key and the "
    "first admin, write stsgas.env beside the key. Exit 0 done, 2 refused, 3 the "
    "database already has an admin.",
)
def init(
    database: Annotated[
        str,
        typer.Option("--database", metavar="URL", help="Database URL (SQLite file or PostgreSQL)."),
    ],
    admin: Annotated[str, typer.Option("--admin", help="User name of the first admin.")],
    master_key_file: Annotated[
        Path | None,
        typer.Option(
            "--master-key-file",
            help="Where the master key is kept (required on PostgreSQL; default on "
            "SQLite: master.key beside the database file).",
            show_default=False,
        ),
    ] = None,
    currency_decimals: Annotated[
        int,
        typer.Option(
            "--currency-decimals",
            min=0,
            max=6,
            metavar="N",
            help="Digits after the currency's decimal point, 0 to 6.",
        ),
    ] = 2,
    timezone: Annotated[
        str,
        typer.Option(
            "--timezone",
            metavar="ZONE",
            help="The utility's IANA time zone, e.g. Africa/Johannesburg: local midnight "
            "starts report days and charge months.",
        ),
    ] = "UTC",
    pkcs11_library: Annotated[
        Path | None,
        typer.Option(
            "--pkcs11-library",
            help="Keys in an HSM instead of a master key (docs/hsm.md): the token's PKCS#11 "
            "library.",
            show_default=False,
        ),
    ] = None,
    pkcs11_token_label: Annotated[
        str | None,
        typer.Option(
            "--pkcs11-token-label", help="HSM: the label of the token.", show_default=False
        ),
    ] = None,
    pkcs11_pin_file: Annotated[
        Path | None,
        typer.Option(
            "--pkcs11-pin-file",
            help="HSM: a file whose first line is the token PIN.",
            show_default=False,
        ),
    ] = None,
    password_file: Annotated[
        Path | None,
        typer.Option(
            "--password-file",
            help="Read the admin's password from this file's first line (default: ask twice).",
            show_default=False,
        ),
    ] = None,
) -> None:
    from sqlalchemy.exc import SQLAlchemyError

    from stsgas.cli._errors import database_reason
    from stsgas.vending.install import (
        InstallRefused,
        hsm_from_args,
        install,
        key_location,
        write_env_file,
    )
    from stsgas.vending.kit.localtime import UnknownTimeZone, zone

    db = parse_database(database)
    try:
        zone(timezone)
    except UnknownTimeZone as exc:
        fail(str(exc))
    try:
        password = _password(password_file)
        hsm, hsm_env = hsm_from_args(
            SimpleNamespace(
                pkcs11_library=pkcs11_library,
                pkcs11_token_label=pkcs11_token_label,
                pkcs11_pin_file=pkcs11_pin_file,
            )
        )
        key_file = None if hsm else key_location(database, master_key_file)
        done = install(database, key_file=key_file, admin=admin, password=password, hsm=hsm)
    except InstallRefused as exc:
        fail(str(exc), exc.code)
    except SQLAlchemyError as exc:
        fail(f"cannot use the database {db.shown}: {database_reason(exc)}")
    except (KeyboardInterrupt, EOFError):
        fail("stopped")
    if done.key_created:
        print(f"created a master key in {done.key_file} (keep it safe and backed up)")
    print(f"database: {db.shown} (migrated); first admin: {admin}")
    env = {"STSGAS_DATABASE_URL": database, **hsm_env}
    if done.key_file is not None:
        env["STSGAS_MASTER_KEY_FILE"] = str(done.key_file)
    env["STSGAS_CURRENCY_DECIMALS"] = str(currency_decimals)
    env["STSGAS_TIMEZONE"] = timezone
    folder = done.key_file or (pkcs11_pin_file or Path("stsgas.env")).resolve()
    env_file = folder.parent / "stsgas.env"
    if write_env_file(env_file, env):
        print(f"settings written to {env_file} (mode 0600)")
    else:
        print(f"{env_file} exists and was left alone; the settings chosen are:")
        for name, value in env.items():
            shown_value = db.shown if name == "STSGAS_DATABASE_URL" else value
            print(f"  {name}={shown_value}")
    print("next: start the server with")
    print(f"  set -a; . {env_file}; set +a; stsgas serve")
