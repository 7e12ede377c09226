"""``stsgas keys``: the vending-key ceremony and the custody check (issue 13).

``stsgas keys import`` reads a vending key in two or three components (without
echo, or from files), checks each against its custodian's check value, imports
the combined key into the configured security module and creates its supply
group. ``stsgas keys generate`` has the HSM make a new DKGA04 key that never leaves it.
``stsgas keys check`` reports whether the module holds every vending key
the database names. The key is never printed; check values are. Settings come
from the environment (``STSGAS_SECURITY_MODULE``, ``STSGAS_PKCS11_*``, docs/hsm.md).
Exit status: 0 done; 1 ``check`` found a key the module does not hold; 2 refused.
"""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Annotated, Any

import typer

from stsgas.cli._common import DatabaseOption, database_url
from stsgas.cli._errors import fail, parse_database

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from stsgas.vending.keys.ceremony import GroupSpec
    from stsgas.vending.keys.security import SecurityModule
    from stsgas.vending.settings import Settings


_NO_MODULE = "no security module configured"


def _settings(database: str | None) -> Settings:
    from stsgas.vending.settings import Settings

    return Settings() if database is None else Settings(database_url=database)


@contextmanager
def _engine(settings: Settings) -> Iterator[Engine]:
    """A one-connection engine for one command, disposed when it is done."""
    from stsgas.vending.db import make_engine

    engine = make_engine(settings.database_url, pool_size=1)
    try:
        yield engine
    finally:
        engine.dispose()


def _security_module(settings: Settings, missing: str) -> SecurityModule | None:
    """The configured module, or None after saying on stderr why there is none."""
    from stsgas.vending.keys import custody

    module = custody.security_module(settings)
    if module is None:
        print(f"stsgas keys: {missing}", file=sys.stderr)
    return module


def _custody(args: Any, missing: str) -> tuple[Settings, SecurityModule] | None:
    """The command's settings and security module (None: there is none, said on stderr)."""
    settings = _settings(args.database)
    module = _security_module(settings, missing)
    return None if module is None else (settings, module)


def _made(verb: str, spec: GroupSpec, supply_group_id: int, kcv: str, *, place: str = "") -> str:
    """The line that says which supply group's vending key was made, and its check value."""
    return (
        f"{verb} the vending key of supply group {spec.sgc}/KRN {spec.krn}{place} "
        f"(supply group {supply_group_id}); check value {kcv}"
    )


def _group_spec(args: Any, *, dkga: int) -> GroupSpec:
    """The supply group named by the options import and generate share."""
    from stsgas.vending.keys.ceremony import GroupSpec

    return GroupSpec(
        sgc=args.sgc,
        krn=args.krn,
        key_type=args.key_type,
        base_date=args.base_date,
        ea=args.ea,
        dkga=dkga,
        ken=args.ken,
        name=args.name,
    )


def _components(args: Any) -> list[bytes]:
    from stsgas.vending.keys.ceremony import CeremonyRefused, check_component, parse_component

    files: list[Path] = args.component_file
    count = len(files) or args.components
    if files and len(files) not in (2, 3):
        raise CeremonyRefused("give two or three --component-file")
    if args.kcv and len(args.kcv) != count:
        raise CeremonyRefused(f"give one --kcv per component ({count}), or none")
    out = []
    for n in range(1, count + 1):
        if files:
            try:
                lines = files[n - 1].read_text(encoding="ascii").splitlines()
            except (OSError, UnicodeDecodeError) as exc:
                raise CeremonyRefused(f"cannot read component file {files[n - 1]}: {exc}") from None
            text = lines[0] if lines else ""
        else:
            text = getpass.getpass(f"component {n} of {count} (hex, not shown): ")
        value = parse_component(text, n)
        shown = check_component(value, n, args.kcv[n - 1] if args.kcv else None)
        print(f"component {n}: check value {shown}")
        out.append(value)
    return out


def _import(args: Any) -> int:
    from stsgas.vending.keys import ceremony

    custody = _custody(
        args, "no security module: set STSGAS_MASTER_KEY_FILE or STSGAS_SECURITY_MODULE=pkcs11"
    )
    if custody is None:
        return 2
    settings, module = custody
    components = _components(args)
    spec = _group_spec(args, dkga=args.dkga)
    with _engine(settings) as engine:
        done = ceremony.import_key(
            engine,
            module,
            spec=spec,
            components=components,
            key_kcv=args.key_kcv,
            custodians=args.custodian,
        )
    where = "computed by the security module" if done.kcv_from_module else "of the key entered"
    print(f"{_made('imported', spec, done.supply_group_id, done.kcv)}, {where}")
    return 0


def _generate(args: Any) -> int:
    from stsgas.vending.keys import ceremony

    custody = _custody(args, _NO_MODULE)
    if custody is None:
        return 2
    settings, module = custody
    spec = _group_spec(args, dkga=4)
    with _engine(settings) as engine:
        done = ceremony.generate_key(
            engine, module, spec=spec, length=args.length, witnesses=args.witness
        )
    print(_made("generated", spec, done.supply_group_id, done.kcv, place=" in the HSM"))
    return 0


def _check(args: Any) -> int:
    from stsgas.vending.db import make_sessionmaker
    from stsgas.vending.keys.security import KeyCustodyError, KeyRef
    from stsgas.vending.supply_groups.repository import SupplyGroupRepository

    custody = _custody(args, _NO_MODULE)
    if custody is None:
        return 2
    settings, module = custody
    bad = 0
    with _engine(settings) as engine, make_sessionmaker(engine)() as session:
        for g in SupplyGroupRepository(session).all():
            try:
                module.check(KeyRef(sgc=g.sgc, krn=g.krn), g.vending_key_enc)
                print(f"{g.sgc}/KRN {g.krn}: held")
            except KeyCustodyError as exc:
                bad += 1
                print(f"{g.sgc}/KRN {g.krn}: NOT HELD: {exc}")
    return 1 if bad else 0


app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="The vending-key ceremony (components, check values) and custody. Exit 0 done, "
    "1 check found a key the module does not hold, 2 refused.",
)

Sgc = Annotated[str, typer.Option("--sgc", help="Supply group code (6 digits).")]
Krn = Annotated[int, typer.Option("--krn", help="Key revision number.")]
KeyType = Annotated[int, typer.Option("--key-type", help="Key type.")]
BaseDate = Annotated[int, typer.Option("--base-date", help="Base date: 1993, 2014 or 2035.")]
Ken = Annotated[int, typer.Option("--ken", help="Key expiry number (255: never).")]
Name = Annotated[str, typer.Option("--name", help="The supply group's name.")]


def _run(command: Callable[[Any], int], args: Any) -> None:
    """Run one ``stsgas keys`` command; refusals are one line on stderr, exit 2."""
    from stsgas.sts import StsError
    from stsgas.vending.errors import VendingError
    from stsgas.vending.keys.security import KeyCustodyError

    parse_database(database_url(args.database))
    try:
        code = command(args)
    except (KeyCustodyError, VendingError, StsError) as exc:
        fail(str(exc))
    except (KeyboardInterrupt, EOFError):
        fail("stopped")
    if code:
        raise typer.Exit(code)


@app.command(name="import", help="Import a vending key from its components.")
def import_key(
    sgc: Sgc,
    krn: Krn,
    key_type: KeyType = 2,
    base_date: BaseDate = 2014,
    ea: Annotated[int, typer.Option("--ea", help="Encryption algorithm: 7, 9 or 11.")] = 7,
    dkga: Annotated[int, typer.Option("--dkga", help="DKGA: 2 or 4.")] = 2,
    ken: Ken = 255,
    name: Name = "",
    components: Annotated[
        int, typer.Option("--components", min=2, max=3, help="How many components: 2 or 3.")
    ] = 2,
    component_file: Annotated[
        list[Path] | None,
        typer.Option(
            "--component-file",
            help="A file whose first line is one component in hex (once per component; "
            "default: ask for each without echo).",
            show_default=False,
        ),
    ] = None,
    kcv: Annotated[
        list[str] | None,
        typer.Option("--kcv", help="Each component's check value, in order.", show_default=False),
    ] = None,
    key_kcv: Annotated[
        str | None,
        typer.Option(
            "--key-kcv", help="The combined key's check value, if known.", show_default=False
        ),
    ] = None,
    custodian: Annotated[
        list[str] | None,
        typer.Option("--custodian", help="A custodian's name (for the audit).", show_default=False),
    ] = None,
    database: DatabaseOption = None,
) -> None:
    args = SimpleNamespace(**locals())
    args.component_file = component_file or []
    args.kcv = kcv or []
    args.custodian = custodian or []
    _run(_import, args)


@app.command(help="Have the HSM make a new DKGA04 vending key that never leaves it.")
def generate(
    sgc: Sgc,
    krn: Krn,
    key_type: KeyType = 2,
    base_date: BaseDate = 2014,
    ea: Annotated[int, typer.Option("--ea", help="Encryption algorithm: 7, 9 or 11.")] = 11,
    ken: Ken = 255,
    name: Name = "",
    length: Annotated[int, typer.Option("--length", min=16, help="Key bytes.")] = 32,
    witness: Annotated[
        list[str] | None,
        typer.Option("--witness", help="A witness (for the audit).", show_default=False),
    ] = None,
    database: DatabaseOption = None,
) -> None:
    args = SimpleNamespace(**locals())
    args.witness = witness or []
    _run(_generate, args)


@app.command(help="Does the security module hold every vending key the database names?")
def check(database: DatabaseOption = None) -> None:
    _run(_check, SimpleNamespace(database=database))
