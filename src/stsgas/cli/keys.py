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

import argparse
import getpass
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stsgas.vending.settings import Settings


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="stsgas keys", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    imp = sub.add_parser("import", help="import a vending key from its components")
    imp.add_argument("--database", help="database URL (default: STSGAS_DATABASE_URL)")
    imp.add_argument("--sgc", required=True, help="supply group code (6 digits)")
    imp.add_argument("--krn", required=True, type=int, help="key revision number")
    imp.add_argument("--key-type", type=int, default=2, help="key type (default 2)")
    imp.add_argument("--base-date", type=int, default=2014, help="base date (default 2014)")
    imp.add_argument("--ea", type=int, default=7, help="encryption algorithm (default 7)")
    imp.add_argument("--dkga", type=int, default=2, help="DKGA: 2 or 4 (default 2)")
    imp.add_argument("--ken", type=int, default=255, help="key expiry number (default 255)")
    imp.add_argument("--name", default="", help="the supply group's name")
    imp.add_argument(
        "--components", type=int, choices=(2, 3), default=2, help="how many (default 2)"
    )
    imp.add_argument(
        "--component-file",
        type=Path,
        action="append",
        default=[],
        help="a file whose first line is one component in hex (once per component; "
        "default: ask for each without echo)",
    )
    imp.add_argument(
        "--kcv", action="append", default=[], help="each component's check value, in order"
    )
    imp.add_argument("--key-kcv", help="the combined key's check value, if known")
    imp.add_argument(
        "--custodian", action="append", default=[], help="a custodian's name (for the audit)"
    )
    gen = sub.add_parser("generate", help="have the HSM make a new DKGA04 vending key")
    gen.add_argument("--database", help="database URL (default: STSGAS_DATABASE_URL)")
    gen.add_argument("--sgc", required=True, help="supply group code (6 digits)")
    gen.add_argument("--krn", required=True, type=int, help="key revision number")
    gen.add_argument("--key-type", type=int, default=2, help="key type (default 2)")
    gen.add_argument("--base-date", type=int, default=2014, help="base date (default 2014)")
    gen.add_argument("--ea", type=int, default=11, help="encryption algorithm (default 11)")
    gen.add_argument("--ken", type=int, default=255, help="key expiry number (default 255)")
    gen.add_argument("--name", default="", help="the supply group's name")
    gen.add_argument("--length", type=int, default=32, help="key bytes (default 32)")
    gen.add_argument("--witness", action="append", default=[], help="a witness (for the audit)")
    chk = sub.add_parser("check", help="does the security module hold every vending key?")
    chk.add_argument("--database", help="database URL (default: STSGAS_DATABASE_URL)")
    return p


def _settings(database: str | None) -> Settings:
    from stsgas.vending.settings import Settings

    return Settings() if database is None else Settings(database_url=database)


def _components(args: argparse.Namespace) -> list[bytes]:
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


def _import(args: argparse.Namespace) -> int:
    from stsgas.vending.db import make_engine
    from stsgas.vending.keys import ceremony, custody

    settings = _settings(args.database)
    module = custody.security_module(settings)
    if module is None:
        print(
            "stsgas keys: no security module: set STSGAS_MASTER_KEY_FILE or "
            "STSGAS_SECURITY_MODULE=pkcs11",
            file=sys.stderr,
        )
        return 2
    components = _components(args)
    spec = ceremony.GroupSpec(
        sgc=args.sgc,
        krn=args.krn,
        key_type=args.key_type,
        base_date=args.base_date,
        ea=args.ea,
        dkga=args.dkga,
        ken=args.ken,
        name=args.name,
    )
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        done = ceremony.import_key(
            engine,
            module,
            spec=spec,
            components=components,
            key_kcv=args.key_kcv,
            custodians=args.custodian,
        )
    finally:
        engine.dispose()
    where = "computed by the security module" if done.kcv_from_module else "of the key entered"
    print(
        f"imported the vending key of supply group {spec.sgc}/KRN {spec.krn} "
        f"(supply group {done.supply_group_id}); check value {done.kcv}, {where}"
    )
    return 0


def _generate(args: argparse.Namespace) -> int:
    from stsgas.vending.db import make_engine
    from stsgas.vending.keys import ceremony, custody

    settings = _settings(args.database)
    module = custody.security_module(settings)
    if module is None:
        print("stsgas keys: no security module configured", file=sys.stderr)
        return 2
    spec = ceremony.GroupSpec(
        sgc=args.sgc,
        krn=args.krn,
        key_type=args.key_type,
        base_date=args.base_date,
        ea=args.ea,
        dkga=4,
        ken=args.ken,
        name=args.name,
    )
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        done = ceremony.generate_key(
            engine, module, spec=spec, length=args.length, witnesses=args.witness
        )
    finally:
        engine.dispose()
    print(
        f"generated the vending key of supply group {spec.sgc}/KRN {spec.krn} in the HSM "
        f"(supply group {done.supply_group_id}); check value {done.kcv}"
    )
    return 0


def _check(args: argparse.Namespace) -> int:
    from stsgas.vending.db import make_engine, make_sessionmaker
    from stsgas.vending.keys import custody
    from stsgas.vending.keys.security import KeyCustodyError, KeyRef
    from stsgas.vending.supply_groups.repository import SupplyGroupRepository

    settings = _settings(args.database)
    module = custody.security_module(settings)
    if module is None:
        print("stsgas keys: no security module configured", file=sys.stderr)
        return 2
    engine = make_engine(settings.database_url, pool_size=1)
    bad = 0
    try:
        with make_sessionmaker(engine)() as session:
            for g in SupplyGroupRepository(session).all():
                try:
                    module.check(KeyRef(sgc=g.sgc, krn=g.krn), g.vending_key_enc)
                    print(f"{g.sgc}/KRN {g.krn}: held")
                except KeyCustodyError as exc:
                    bad += 1
                    print(f"{g.sgc}/KRN {g.krn}: NOT HELD: {exc}")
    finally:
        engine.dispose()
    return 1 if bad else 0


def main(argv: list[str]) -> int:
    """Run one ``stsgas keys`` command; refusals are one line on stderr, exit 2."""
    args = _parser().parse_args(argv)
    from sqlalchemy.exc import SQLAlchemyError

    from stsgas.sts import StsError
    from stsgas.vending.errors import VendingError
    from stsgas.vending.keys.security import KeyCustodyError

    try:
        run = {"import": _import, "generate": _generate, "check": _check}[args.command]
        return run(args)
    except (KeyCustodyError, VendingError, StsError) as exc:
        print(f"stsgas keys: {exc}", file=sys.stderr)
        return 2
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        print(f"stsgas keys: cannot use the database: {reason}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, EOFError):
        print("stsgas keys: stopped", file=sys.stderr)
        return 2
