"""First set-up of a live install (``stsgas init``): migrate, master key, first admin.

Each refusal is an :class:`InstallRefused` with one line for the person at the
keyboard; ``code`` is the exit status the command line gives it. Nothing here
prints or logs a password or the master key.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from stsgas.vending import migrations, transaction
from stsgas.vending.db import make_engine, make_sessionmaker
from stsgas.vending.keys.master import create_master_key_file
from stsgas.vending.keys.security import KeyCustodyError, SecurityModule
from stsgas.vending.models import Role
from stsgas.vending.operators import service as operators
from stsgas.vending.operators.repository import OperatorRepository
from stsgas.vending.operators.schemas import OperatorIn
from stsgas.vending.server import (
    StartRefused,
    check_hsm_keys,
    check_master_key,
    default_key_file,
)


def _min_length(field: str) -> int:
    """The API's minimum length of a new account's ``field`` (one rule, not a copy)."""
    found = [getattr(m, "min_length", None) for m in OperatorIn.model_fields[field].metadata]
    return next(n for n in found if isinstance(n, int))


#: the shortest password an admin may have (the API's rule for new accounts)
MIN_PASSWORD = _min_length("password")
#: exit status when the database already has an admin (the install is done)
ALREADY_INITIALISED = 3


class InstallRefused(Exception):
    """``stsgas init`` must stop; the message is one line, ``code`` the exit status."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True, kw_only=True)
class Installed:
    """What :func:`install` made, for the closing message."""

    key_file: Path | None
    key_created: bool


def key_location(url: str, given: Path | None) -> Path:
    """The master key file: the one given, else beside a SQLite file; PostgreSQL needs one."""
    if given is not None:
        return given.resolve()
    beside = default_key_file_for(url)
    if beside is None:
        raise InstallRefused(
            "--master-key-file is required on this database: the key never sits beside it"
        )
    return beside


def default_key_file_for(url: str) -> Path | None:
    """Where ``stsgas serve`` looks for the key of ``url`` when none is configured."""
    from stsgas.vending.settings import Settings

    return default_key_file(Settings(database_url=url))


def check_account(username: str, password: str) -> None:
    """Refuse what the API would refuse for a new account: the name's characters and
    length, a password shorter than :data:`MIN_PASSWORD` (or over-long)."""
    try:
        OperatorIn(username=username, role=Role.ADMIN, password=password)
    except ValidationError as exc:
        field = exc.errors()[0]["loc"][0]
        if field == "username":
            raise InstallRefused(
                "the user name may hold letters, digits and _ . @ - (1 to 64 of them)"
            ) from None
        if len(password) < MIN_PASSWORD:
            raise InstallRefused(
                f"the password is too short: at least {MIN_PASSWORD} characters"
            ) from None
        raise InstallRefused("the password is too long: at most 256 characters") from None


def _refuse_a_second_admin(session: Session) -> None:
    if OperatorRepository(session).admin_count():
        raise InstallRefused(
            "the database already has an admin: it is set up, start it with `stsgas serve`",
            ALREADY_INITIALISED,
        )


def install(
    url: str,
    *,
    key_file: Path | None,
    admin: str,
    password: str,
    hsm: SecurityModule | None = None,
) -> Installed:
    """Migrate ``url`` to head, create or check the master key (or, with ``hsm``, check
    the token holds the database's vending keys), create the first admin.

    Refuses a database that already has an admin, and a key file that does not open
    the database's vending keys (a key file made here is removed again then).
    """
    check_account(admin, password)
    make_url(url)  # a malformed URL raises ArgumentError before anything is made
    engine = make_engine(url, pool_size=1)
    try:
        migrations.upgrade(url, engine=engine)
        with make_sessionmaker(engine)() as session:
            _refuse_a_second_admin(session)
            if hsm is not None:
                try:
                    check_hsm_keys(session, hsm)
                except StartRefused as exc:
                    raise InstallRefused(str(exc)) from None
                key_file = None
            created = key_file is not None and not key_file.exists()
            try:
                if key_file is not None:
                    master = create_master_key_file(key_file)
                    check_master_key(session, master)
            except (KeyCustodyError, StartRefused) as exc:
                if created and key_file is not None and key_file.exists():
                    key_file.unlink()
                raise InstallRefused(str(exc)) from None
            except OSError as exc:
                raise InstallRefused(
                    f"cannot write the master key file {key_file}: {exc.strerror}"
                ) from None

            def first_admin() -> None:
                _refuse_a_second_admin(session)  # again, inside the writing transaction
                operators.create_operator(
                    session,
                    actor=None,
                    username=admin,
                    role=Role.ADMIN,
                    password=password,
                    display_name="first admin",
                )

            transaction.run(session, first_admin)
    finally:
        engine.dispose()
    return Installed(key_file=key_file, key_created=created)


def hsm_from_args(args: Any) -> tuple[SecurityModule | None, dict[str, str]]:
    """The HSM of ``stsgas init --pkcs11-*`` (all three, or none) and its settings."""
    given = (args.pkcs11_library, args.pkcs11_token_label, args.pkcs11_pin_file)
    if not any(given):
        return None, {}
    if not all(given):
        raise InstallRefused(
            "give all of --pkcs11-library, --pkcs11-token-label and --pkcs11-pin-file"
        )
    env = {
        "STSGAS_SECURITY_MODULE": "pkcs11",
        "STSGAS_PKCS11_LIBRARY": str(Path(args.pkcs11_library).resolve()),
        "STSGAS_PKCS11_TOKEN_LABEL": str(args.pkcs11_token_label),
        "STSGAS_PKCS11_PIN_FILE": str(Path(args.pkcs11_pin_file).resolve()),
    }
    from stsgas.vending.keys.custody import open_hsm
    from stsgas.vending.settings import Settings

    settings = Settings(
        security_module="pkcs11",
        pkcs11_library=Path(env["STSGAS_PKCS11_LIBRARY"]),
        pkcs11_token_label=env["STSGAS_PKCS11_TOKEN_LABEL"],
        pkcs11_pin_file=Path(env["STSGAS_PKCS11_PIN_FILE"]),
    )
    try:
        return open_hsm(settings), env
    except KeyCustodyError as exc:
        raise InstallRefused(str(exc)) from None


def write_env_file(path: Path, values: dict[str, str]) -> bool:
    """Write ``KEY=value`` lines to a new file (mode 0600); False if one is there already."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.writelines(f"{k}={shlex.quote(v)}\n" for k, v in values.items())
    return True
