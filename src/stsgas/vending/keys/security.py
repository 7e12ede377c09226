"""The security-module interface and its software implementation.

A vending key is stored only as an AES-256-GCM blob made under the master
key, with the supply group's identity (SGC, KRN) as associated data, so a
blob copied to another supply group does not decrypt. The plain key stays
inside the module: callers get a :class:`stsgas.sts.MeterConfig` holding the
*decoder* key of one meter (what ``stsgas.sts`` needs to make its tokens),
never the vending key. Nothing here logs or returns key material, and no
cache holds a vending key: a blob is opened for each use (AES-GCM is cheap)
and the decoder key is derived without ``stsgas.sts``'s derivation cache,
whose entries would keep the vending key alive for the life of the process.

    blob = 0x01 ‖ nonce (12 bytes) ‖ AES-GCM(master, nonce, vending_key, aad)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from stsgas.irproto import mac_for
from stsgas.sts import DKGA, EA, BaseDate, MeterConfig
from stsgas.sts.kdf import derive

_VERSION = b"\x01"
MASTER_KEY_BYTES = 32


class KeyCustodyError(Exception):
    """A blob that does not decrypt, or a master key of the wrong shape."""


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyRef:
    """Which supply-group key a blob holds; bound into the blob as associated data."""

    sgc: str
    krn: int

    def aad(self) -> bytes:
        """The associated data for AES-GCM."""
        return f"stsgas-vk:v1:sgc={self.sgc}:krn={self.krn}".encode()


@dataclass(frozen=True, slots=True, kw_only=True)
class MeterKeyData:
    """Everything but the key itself needed to make one meter's decoder key."""

    pan: str
    key_type: int
    sgc: str
    ti: str
    krn: int
    ken: int
    base_date: int
    ea: int
    dkga: int

    def with_key(
        self, *, decoder_key: bytes | None = None, vending_key: bytes | None = None
    ) -> MeterConfig:
        """The meter's config with one of its keys: a vending key (with the DKGA to
        derive from it) or the decoder key already derived (then no DKGA is kept)."""
        return MeterConfig(
            pan=self.pan,
            key_type=self.key_type,
            sgc=self.sgc,
            ti=self.ti,
            krn=self.krn,
            ken=self.ken,
            base_date=BaseDate(self.base_date),
            ea=EA(self.ea),
            dkga=DKGA(self.dkga) if vending_key is not None else None,
            vending_key=vending_key,
            decoder_key=decoder_key,
        )


class SecurityModule(Protocol):
    """What the vending system may ask of key custody (an HSM could implement it)."""

    def wrap(self, ref: KeyRef, vending_key: bytes) -> bytes:
        """Encrypt a new vending key for storage."""
        ...

    def check(self, ref: KeyRef, blob: bytes) -> None:
        """Raise :class:`KeyCustodyError` unless ``blob`` opens for ``ref``."""
        ...

    def meter_config(self, data: MeterKeyData, blob: bytes) -> MeterConfig:
        """The meter's config with its derived decoder key (no vending key)."""
        ...

    def ir_mac(self, data: MeterKeyData, blob: bytes, payload: str) -> str:
        """The MAC of an authenticated IR command for this meter (``stsgas.irproto``)."""
        ...


class SoftwareSecurityModule:
    """AES-GCM key custody in process memory, under one master key."""

    def __init__(self, master_key: bytes) -> None:
        if len(master_key) != MASTER_KEY_BYTES:
            raise KeyCustodyError(f"the master key is {MASTER_KEY_BYTES} bytes")
        self._aead = AESGCM(master_key)

    def __repr__(self) -> str:
        return "SoftwareSecurityModule(<master key hidden>)"

    def wrap(self, ref: KeyRef, vending_key: bytes) -> bytes:
        """Encrypt ``vending_key`` for ``ref``."""
        nonce = os.urandom(12)
        return _VERSION + nonce + self._aead.encrypt(nonce, vending_key, ref.aad())

    def _open(self, ref: KeyRef, blob: bytes) -> bytes:
        """The plain vending key, for the caller's immediate use only (never kept)."""
        if len(blob) < 1 + 12 + 16 or blob[:1] != _VERSION:
            raise KeyCustodyError("not a stsgas key blob")
        try:
            return self._aead.decrypt(blob[1:13], blob[13:], ref.aad())
        except InvalidTag:
            raise KeyCustodyError("key blob does not open under this master key") from None

    def check(self, ref: KeyRef, blob: bytes) -> None:
        """Raise unless ``blob`` opens for ``ref``."""
        self._open(ref, blob)

    def ir_mac(self, data: MeterKeyData, blob: bytes, payload: str) -> str:
        """Sign an IR command under the meter's decoder key, derived here."""
        return mac_for(self.meter_config(data, blob).key().value, payload)

    def meter_config(self, data: MeterKeyData, blob: bytes) -> MeterConfig:
        """Derive the meter's decoder key inside the module; return it without the vending key."""
        vk = self._open(KeyRef(sgc=data.sgc, krn=data.krn), blob)
        with_vk = data.with_key(vending_key=vk)
        # not .key(): its cache would keep ``vk``
        return data.with_key(decoder_key=derive(with_vk).value)
