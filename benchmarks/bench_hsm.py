"""Vending keys in SoftHSM beside the software module: tokens per second (issue 13).

Run: ``.venv/bin/python -m benchmarks hsm`` (option ``--n N``). Needs softhsm2
(``scripts/ensure-system-deps.sh``). A token is initialised in a scratch folder;
one DKGA02 and one DKGA04 vending key are imported into it and wrapped by the
software module. Printed, per module: raw token operations a second (one
3DES-ECB block, one HMAC), decoder keys derived a second, and credit tokens a
second (derive + make the token, what a sale does with the key). Then the cost
of auditing each key use: the ``stsgas.keys.use`` log line (to a file) against
none, and one audit-chain row per use in a SQLite file, which is why a sale
is not given one (docs/hsm.md).
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from stsgas.sts import credit_token
from stsgas.vending.keys.security import KeyRef, MeterKeyData, SecurityModule

LIBRARY = "/usr/lib/softhsm/libsofthsm2.so"
PIN = "bench-pin"
MASTER = bytes(range(32))
KEYS = {2: bytes.fromhex("abababababababab"), 4: bytes(range(1, 33))}
AT = datetime(2026, 6, 1, tzinfo=UTC)


def _token(folder: Path) -> None:
    tokens = folder / "tokens"
    tokens.mkdir()
    conf = folder / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {tokens}\nobjectstore.backend = file\n")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    subprocess.run(
        [
            *("softhsm2-util", "--init-token", "--free", "--label", "bench"),
            "--pin",
            PIN,
            "--so-pin",
            "bench-so",
        ],
        check=True,
        capture_output=True,
    )


def _data(dkga: int) -> MeterKeyData:
    return MeterKeyData(
        pan="600727000000000009",
        key_type=2,
        sgc="123456",
        ti="01",
        krn=dkga,
        ken=255,
        base_date=2014,
        ea=7,
        dkga=dkga,
    )


def _rate(n: int, op: Callable[[], object]) -> float:
    op()  # warm
    start = time.perf_counter()
    for _ in range(n):
        op()
    return n / (time.perf_counter() - start)


def _audit_rows_per_second(n: int, folder: Path) -> float:
    """One audit-chain row per key use, committed (SQLite file): what it would cost."""
    from stsgas.vending.audit import service as audit
    from stsgas.vending.db import make_engine, make_sessionmaker
    from stsgas.vending.migrations import upgrade

    url = f"sqlite:///{folder / 'audit.db'}"
    engine = make_engine(url, pool_size=1)
    upgrade(url, engine=engine)
    maker = make_sessionmaker(engine)

    def one() -> None:
        with maker.begin() as s:
            audit.record(
                s,
                actor=None,
                action="key.use",
                object_type="supply_group",
                object_id=1,
                data={"purpose": "credit", "pan": "600727000000000009"},
            )

    try:
        return _rate(n, one)
    finally:
        engine.dispose()


def main(argv: list[str]) -> int:
    """Import the keys, time each module, print the figures."""
    p = argparse.ArgumentParser(prog="benchmarks hsm")
    p.add_argument("--n", type=int, default=3000, help="operations per figure")
    args = p.parse_args(argv)
    if not Path(LIBRARY).exists():
        print("softhsm2 is not installed: run scripts/ensure-system-deps.sh as root")
        return 1
    from pkcs11 import Mechanism

    from stsgas.vending.keys.hsm import Pkcs11SecurityModule, use_log
    from stsgas.vending.keys.security import SoftwareSecurityModule

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        _token(folder)
        hsm = Pkcs11SecurityModule(library=LIBRARY, token_label="bench", pin=PIN)
        soft = SoftwareSecurityModule(MASTER)
        modules: dict[str, SecurityModule] = {"software": soft, "softhsm": hsm}
        blobs = {
            (name, dkga): m.wrap(KeyRef(sgc="123456", krn=dkga), KEYS[dkga])
            for name, m in modules.items()
            for dkga in KEYS
        }
        h2 = hsm._find(KeyRef(sgc="123456", krn=2), blobs["softhsm", 2])
        h4 = hsm._find(KeyRef(sgc="123456", krn=4), blobs["softhsm", 4])
        des = _rate(args.n, lambda: h2.key.encrypt(bytes(8), mechanism=Mechanism.DES3_ECB))
        mac = _rate(args.n, lambda: h4.key.sign(bytes(64), mechanism=Mechanism.SHA256_HMAC))
        print(f"softhsm raw: 3DES-ECB one block {des:,.0f}/s, HMAC-SHA-256 {mac:,.0f}/s")
        for dkga in KEYS:
            data = _data(dkga)
            for name, m in modules.items():
                blob = blobs[name, dkga]

                def derive_one(
                    m: SecurityModule = m, blob: bytes = blob, d: MeterKeyData = data
                ) -> None:
                    m.meter_config(d, blob)

                def token_one(
                    m: SecurityModule = m, blob: bytes = blob, d: MeterKeyData = data
                ) -> None:
                    credit_token(m.meter_config(d, blob), "3.5", at=AT)

                derive = _rate(args.n, derive_one)
                tokens = _rate(args.n, token_one)
                print(
                    f"DKGA{dkga:02d} {name:<8}: decoder keys {derive:>9,.0f}/s, "
                    f"credit tokens {tokens:>9,.0f}/s"
                )
        data, blob = _data(4), blobs["softhsm", 4]
        handler = logging.FileHandler(folder / "key-use.log")
        use_log.addHandler(handler)
        use_log.setLevel(logging.INFO)
        logged = _rate(args.n, lambda: hsm.meter_config(data, blob))
        use_log.removeHandler(handler)
        use_log.setLevel(logging.WARNING)
        quiet = _rate(args.n, lambda: hsm.meter_config(data, blob))
        print(
            f"key-use log line to a file: {logged:,.0f}/s logged vs {quiet:,.0f}/s not "
            f"({(1 / logged - 1 / quiet) * 1e6:+.1f} us a use)"
        )
        rows = _audit_rows_per_second(min(args.n, 1000), folder)
        print(f"one audit-chain row per use (SQLite, committed): {rows:,.0f}/s")
        hsm.close()
    return 0
