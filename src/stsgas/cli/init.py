"""``stsgas init``: set up a live install (database, master key, first admin).

Migrates the database to head, creates the master key file (0600) or checks an
existing one against the database's vending keys, creates the first admin and
writes ``stsgas.env`` (0600) beside the key with the settings ``stsgas serve``
needs. Exit status: 0 done; 2 refused (bad input, password too short or typed
differently twice, bad or unreachable database, a key that does not open the
database's keys); 3 the database already has an admin.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="stsgas init", description=__doc__.splitlines()[0])
    p.add_argument("--database", required=True, help="database URL (SQLite file or PostgreSQL)")
    p.add_argument(
        "--master-key-file",
        type=Path,
        help="where the master key is kept (required on PostgreSQL; default on "
        "SQLite: master.key beside the database file)",
    )
    p.add_argument(
        "--currency-decimals",
        type=int,
        default=2,
        choices=range(7),
        metavar="N",
        help="digits after the currency's decimal point (0-6, default 2)",
    )
    hsm = p.add_argument_group("keys in an HSM (docs/hsm.md), instead of a master key")
    hsm.add_argument("--pkcs11-library", type=Path, help="the token's PKCS#11 library")
    hsm.add_argument("--pkcs11-token-label", help="the label of the token")
    hsm.add_argument(
        "--pkcs11-pin-file", type=Path, help="a file whose first line is the token PIN"
    )
    p.add_argument("--admin", required=True, help="user name of the first admin")
    p.add_argument(
        "--password-file",
        type=Path,
        help="read the admin's password from this file's first line (default: ask twice)",
    )
    return p


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


def main(argv: list[str]) -> int:
    """Set up the install; print what to run next."""
    args = _parser().parse_args(argv)
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    from stsgas.vending.install import (
        InstallRefused,
        hsm_from_args,
        install,
        key_location,
        write_env_file,
    )

    try:
        shown = make_url(args.database).render_as_string(hide_password=True)
    except ArgumentError:
        print(
            "stsgas init: the database URL is not a URL (e.g. sqlite:///var/stsgas.db, "
            "postgresql+psycopg://user@host/db)",
            file=sys.stderr,
        )
        return 2
    try:
        password = _password(args.password_file)
        hsm, hsm_env = hsm_from_args(args)
        key_file = None if hsm else key_location(args.database, args.master_key_file)
        done = install(
            args.database, key_file=key_file, admin=args.admin, password=password, hsm=hsm
        )
    except InstallRefused as exc:
        print(f"stsgas init: {exc}", file=sys.stderr)
        return exc.code
    except SQLAlchemyError as exc:
        orig = getattr(exc, "orig", None)
        reason = str(orig or exc).strip().splitlines()[0]
        print(f"stsgas init: cannot use the database {shown}: {reason}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, EOFError):
        print("stsgas init: stopped", file=sys.stderr)
        return 2
    if done.key_created:
        print(f"created a master key in {done.key_file} (keep it safe and backed up)")
    print(f"database: {shown} (migrated); first admin: {args.admin}")
    env = {"STSGAS_DATABASE_URL": args.database, **hsm_env}
    if done.key_file is not None:
        env["STSGAS_MASTER_KEY_FILE"] = str(done.key_file)
    env["STSGAS_CURRENCY_DECIMALS"] = str(args.currency_decimals)
    folder = done.key_file or args.pkcs11_pin_file.resolve()
    env_file = folder.parent / "stsgas.env"
    if write_env_file(env_file, env):
        print(f"settings written to {env_file} (mode 0600)")
    else:
        print(f"{env_file} exists and was left alone; the settings chosen are:")
        for name, value in env.items():
            shown_value = shown if name == "STSGAS_DATABASE_URL" else value
            print(f"  {name}={shown_value}")
    print("next: start the server with")
    print(f"  set -a; . {env_file}; set +a; stsgas serve")
    return 0
