"""The key ceremony: a vending key entered in two or three components (issue 13).

Each custodian holds one component and its key check value (KCV). The
components are XORed into the vending key, which goes straight into the
security module (an HSM: a non-extractable object) and is forgotten; only
check values are ever shown. A KCV is the first three bytes, in hex, of:

* an 8-byte (DES, DKGA02) key: DES encryption of eight zero bytes under it,
  the usual check value of DES keys;
* a longer (DKGA04) key: HMAC-SHA-256 under it of eight zero bytes. A DKGA04
  vending key is an HMAC key, not a cipher key, so it has no block to
  encrypt; the HMAC of zeros is its analogue. (A MISTY1 *decoder* key is
  derived per meter and never entered, so it needs no KCV here.)

The supply group and its audit record are written in one transaction with the
import; when that transaction fails, the HSM object is destroyed again.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from stsgas.sts import MeterConfig
from stsgas.sts.ciphers.dea import des_encrypt_block
from stsgas.vending import transaction
from stsgas.vending.audit import service as audit
from stsgas.vending.db import make_sessionmaker
from stsgas.vending.keys.security import KeyCustodyError, KeyRef, MeterKeyData, SecurityModule
from stsgas.vending.supply_groups import service as supply_groups


class CeremonyRefused(KeyCustodyError):
    """A component or check value that does not fit; the message shows no key."""


def kcv(key: bytes) -> str:
    """The key check value of a component or key (see the module text), upper-case hex."""
    if len(key) == 8:
        return des_encrypt_block(key, bytes(8))[:3].hex().upper()
    return hmac.digest(key, bytes(8), hashlib.sha256)[:3].hex().upper()


def parse_component(text: str, number: int) -> bytes:
    """One component from hex (spaces allowed), or :class:`CeremonyRefused`."""
    try:
        value = bytes.fromhex("".join(text.split()))
    except ValueError:
        raise CeremonyRefused(f"component {number} is not hex") from None
    if len(value) != 8 and len(value) < 20:
        raise CeremonyRefused(
            f"component {number} is {len(value)} bytes: a vending key is 8 bytes (DKGA02) "
            "or at least 20 (DKGA04)"
        )
    return value


def check_component(value: bytes, number: int, expected_kcv: str | None) -> str:
    """The component's KCV; :class:`CeremonyRefused` if it differs from the custodian's."""
    got = kcv(value)
    if expected_kcv is not None and expected_kcv.strip().upper() != got:
        raise CeremonyRefused(
            f"component {number} has check value {got}, not {expected_kcv.strip().upper()}: "
            "it was entered wrongly"
        )
    return got


def combine(components: Sequence[bytes]) -> bytes:
    """The vending key: the XOR of two or three components of one length."""
    if not 2 <= len(components) <= 3:
        raise CeremonyRefused("a key ceremony takes two or three components")
    if len({len(c) for c in components}) != 1:
        raise CeremonyRefused("the components differ in length")
    key = bytearray(components[0])
    for c in components[1:]:
        for i, b in enumerate(c):
            key[i] ^= b
    if len(set(components)) != len(components):
        raise CeremonyRefused("two components are equal: each custodian needs their own")
    return bytes(key)


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupSpec:
    """The supply group a ceremony's key belongs to (the key's algorithm set)."""

    sgc: str
    krn: int
    key_type: int = 2
    base_date: int = 2014
    ea: int = 7
    dkga: int = 2
    ken: int = 255
    key_expires_at: datetime | None = None
    name: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Imported:
    """What a ceremony did: the group's id and the stored key's check value."""

    supply_group_id: int
    kcv: str
    kcv_from_module: bool


class _Recorder:
    """The module, noting each blob it made, so a failed transaction can undo it."""

    def __init__(self, inner: SecurityModule, *, generate: bool = False) -> None:
        self.inner = inner
        self.generate = generate
        self.made: list[bytes] = []

    def wrap(self, ref: KeyRef, vending_key: bytes) -> bytes:
        if self.generate:
            blob: bytes = self.inner.generate(ref, len(vending_key))  # type: ignore[attr-defined]
        else:
            blob = self.inner.wrap(ref, vending_key)
        self.made.append(blob)
        return blob

    def check(self, ref: KeyRef, blob: bytes) -> None:
        self.inner.check(ref, blob)

    def meter_config(self, data: MeterKeyData, blob: bytes) -> MeterConfig:
        return self.inner.meter_config(data, blob)

    def ir_mac(self, data: MeterKeyData, blob: bytes, payload: str) -> str:
        return self.inner.ir_mac(data, blob, payload)


def import_key(
    engine: Engine,
    security: SecurityModule,
    *,
    spec: GroupSpec,
    components: Sequence[bytes],
    key_kcv: str | None,
    custodians: Sequence[str],
) -> Imported:
    """Combine the components, import the key, create the supply group, audit it: all
    in one transaction, and an HSM object of a transaction that failed is destroyed.

    ``key_kcv`` (the combined key's expected check value, if the custodians have it)
    is checked before anything is written. The KCV returned is computed by the
    module itself when it can (an HSM), proving it holds the key entered.
    """
    key = combine(components)
    expected = kcv(key)
    if key_kcv is not None and key_kcv.strip().upper() != expected:
        raise CeremonyRefused(
            f"the combined key has check value {expected}, not {key_kcv.strip().upper()}"
        )
    return _store(
        engine,
        _Recorder(security),
        spec=spec,
        key=key,
        expected=expected,
        audit_data={"components": len(components), "custodians": list(custodians)},
    )


def generate_key(
    engine: Engine,
    security: SecurityModule,
    *,
    spec: GroupSpec,
    length: int,
    witnesses: Sequence[str],
) -> Imported:
    """Have the HSM make a new DKGA04 vending key (it never exists outside the token)
    and create its supply group, audited as ``key.ceremony`` with ``generated``."""
    if getattr(security, "generate", None) is None:
        raise CeremonyRefused("only an HSM (STSGAS_SECURITY_MODULE=pkcs11) generates keys")
    if spec.dkga != 4:
        raise CeremonyRefused(
            "the HSM generates DKGA04 keys only: a DKGA02 key needs its value at import"
        )
    # a stand-in of the right length lets stsgas.sts check the algorithm set; the
    # module's wrap then ignores it and generates the real key inside the token
    return _store(
        engine,
        _Recorder(security, generate=True),
        spec=spec,
        key=secrets.token_bytes(length),
        expected=None,
        audit_data={"generated": True, "custodians": list(witnesses)},
    )


def _store(
    engine: Engine,
    recorder: _Recorder,
    *,
    spec: GroupSpec,
    key: bytes,
    expected: str | None,
    audit_data: dict[str, object],
) -> Imported:
    security = recorder.inner
    ref = KeyRef(sgc=spec.sgc, krn=spec.krn)

    def store(session: Session) -> tuple[int, str, bool]:
        sg = supply_groups.create(
            session,
            recorder,
            actor=None,
            sgc=spec.sgc,
            krn=spec.krn,
            vending_key=key,
            key_type=spec.key_type,
            base_date=spec.base_date,
            ea=spec.ea,
            dkga=spec.dkga,
            ken=spec.ken,
            key_expires_at=spec.key_expires_at,
            name=spec.name,
        )
        blob, sg_id = sg.vending_key_enc, sg.id
        module_kcv = getattr(security, "kcv", None)
        stored = expected if module_kcv is None else module_kcv(ref, blob)
        if stored is None or (expected is not None and stored != expected):
            raise CeremonyRefused(
                f"the security module reports check value {stored}, not {expected}"
            )
        audit.record(
            session,
            actor=None,
            action="key.ceremony",
            object_type="supply_group",
            object_id=sg_id,
            data={
                "sgc": spec.sgc,
                "krn": spec.krn,
                "kcv": stored,
                "module": type(security).__name__,
                **audit_data,
            },
        )
        return sg_id, stored, module_kcv is not None

    try:
        sg_id, stored, from_module = transaction.once(make_sessionmaker(engine), store)
    except BaseException:
        destroy = getattr(security, "destroy", None)
        for made in recorder.made:
            if destroy is not None:
                destroy(ref, made)
        raise
    return Imported(supply_group_id=sg_id, kcv=stored, kcv_from_module=from_module)
