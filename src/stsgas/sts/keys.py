"""Algorithms, decoder keys and the per-meter key data (§6.1, §6.5).

:class:`MeterConfig` is what a vending system or meter knows about one meter's
keys: the PAN, key type, supply group, tariff index, key revision, key expiry
number, base date, encryption algorithm and either the vending key with its
decoder key generation algorithm, or the decoder key itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, Final

from stsgas.sts.errors import AlgorithmError, DecoderKeyError, IdentityError, StsError
from stsgas.sts.identity import pan_from_iin_drn, validate_pan
from stsgas.sts.tid import BaseDate

__all__ = ["DKGA", "EA", "DecoderKey", "MeterConfig"]


class EA(IntEnum):
    """Encryption algorithm codes."""

    #: Standard Transfer Algorithm, 64-bit key.
    STA = 7
    #: DES, 64-bit key.
    DEA = 9
    #: MISTY1, 128-bit key.
    MISTY1 = 11

    @classmethod
    def parse(cls, value: object) -> EA:
        """Accept ``"07"``, ``7``, ``"EA07"`` or a name like ``"sta"``."""
        text = str(value).strip().upper().removeprefix("EA")
        by_name = {"STA": cls.STA, "DEA": cls.DEA, "DES": cls.DEA, "MISTY1": cls.MISTY1}
        if text in by_name:
            return by_name[text]
        try:
            return cls(int(text))
        except ValueError:
            raise AlgorithmError(f"unknown encryption algorithm {value!r}") from None

    @property
    def key_bytes(self) -> int:
        """Decoder key length in bytes."""
        return 16 if self is EA.MISTY1 else 8


class DKGA(IntEnum):
    """Decoder key generation algorithm codes."""

    #: DES-based, 64-bit vending key (legacy, STA/DEA only).
    DKGA02 = 2
    #: HMAC-SHA-256-based, vending key of 160 bits or more.
    DKGA04 = 4

    @classmethod
    def parse(cls, value: object) -> DKGA:
        """Accept ``"02"``, ``2``, ``"DKGA04"``."""
        text = str(value).strip().upper().removeprefix("DKGA")
        try:
            return cls(int(text))
        except ValueError:
            raise AlgorithmError(f"unknown key generation algorithm {value!r}") from None


@dataclass(frozen=True, slots=True)
class DecoderKey:
    """A decoder key, in IEC (big-endian) byte order, bound to its algorithm."""

    value: bytes
    ea: EA

    def __post_init__(self) -> None:
        if not isinstance(self.value, bytes):
            raise TypeError("decoder key value must be bytes")
        if len(self.value) != self.ea.key_bytes:
            raise DecoderKeyError(
                f"a {self.ea.name} decoder key is {self.ea.key_bytes} bytes, got {len(self.value)}"
            )

    @property
    def as_int(self) -> int:
        """The key as a big-endian integer (what the cipher functions take)."""
        return int.from_bytes(self.value, "big")

    def hex(self) -> str:
        """The key in hex, IEC order."""
        return self.value.hex()

    def __repr__(self) -> str:  # never print key material
        return f"DecoderKey(ea={self.ea.name}, value=<{len(self.value)} bytes>)"


def _hex_bytes(value: object, what: str) -> bytes:
    if isinstance(value, bytes):
        return value
    if not isinstance(value, str):
        raise DecoderKeyError(f"{what} must be a hex string")
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise DecoderKeyError(f"{what} is not valid hex") from None


_KEY_TYPES: Final = frozenset({0, 1, 2, 3})


@dataclass(frozen=True, slots=True, kw_only=True)
class MeterConfig:
    """One meter's identity and key data, validated on construction."""

    pan: str
    key_type: int = 2
    sgc: str
    ti: str
    krn: int
    ken: int = 255
    base_date: BaseDate
    ea: EA
    dkga: DKGA | None = None
    vending_key: bytes | None = field(default=None, repr=False)
    decoder_key: bytes | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        validate_pan(self.pan)
        if self.key_type not in _KEY_TYPES:
            raise DecoderKeyError(f"key type {self.key_type} is not 0..3")
        if len(self.sgc) != 6 or not self.sgc.isdigit():
            raise IdentityError("a supply group code is 6 digits")
        if len(self.ti) != 2 or not self.ti.isdigit():
            raise IdentityError("a tariff index is 2 digits")
        if not 1 <= self.krn <= 15:
            raise DecoderKeyError(f"key revision number {self.krn} is not 1..15")
        if not 0 <= self.ken <= 255:
            raise DecoderKeyError(f"key expiry number {self.ken} is not 0..255")
        if self.decoder_key is None:
            if self.vending_key is None or self.dkga is None:
                raise DecoderKeyError("give either decoder_key, or vending_key and dkga")
            if self.dkga is DKGA.DKGA02:
                if self.ea is EA.MISTY1:
                    raise AlgorithmError("DKGA02 makes 64-bit keys; MISTY1 needs DKGA04")
                if len(self.vending_key) != 8:
                    raise DecoderKeyError("a DKGA02 vending key is 8 bytes")
            elif len(self.vending_key) < 20:
                raise DecoderKeyError("a DKGA04 vending key is at least 160 bits (20 bytes)")
        elif len(self.decoder_key) != self.ea.key_bytes:
            raise DecoderKeyError(
                f"a {self.ea.name} decoder key is {self.ea.key_bytes} bytes, "
                f"got {len(self.decoder_key)}"
            )

    def key(self) -> DecoderKey:
        """This meter's decoder key (derived once per config, then cached)."""
        from stsgas.sts.kdf import derive_cached  # kdf imports this module

        return derive_cached(self)

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> MeterConfig:
        """Build from the JSON form used by the CLI, scenarios and the API.

        Raises:
            StsError: a missing or malformed field (the message names it).
        """
        if not isinstance(doc, dict):
            raise IdentityError("meter must be an object")
        try:
            if "pan" in doc:
                pan = str(doc["pan"])
            elif "iin" in doc and "drn" in doc:
                pan = pan_from_iin_drn(str(doc["iin"]), str(doc["drn"]))
            else:
                raise IdentityError("meter needs 'pan', or 'iin' and 'drn'")
            vk = doc.get("vending_key")
            dk = doc.get("decoder_key")
            dkga = doc.get("dkga")
            return cls(
                pan=pan,
                key_type=int(doc.get("key_type", 2)),
                sgc=str(doc["sgc"]),
                ti=f"{int(doc['ti']):02d}" if str(doc["ti"]).isdigit() else str(doc["ti"]),
                krn=int(doc["krn"]),
                ken=int(doc.get("ken", 255)),
                base_date=BaseDate.parse(doc["base_date"]),
                ea=EA.parse(doc["ea"]),
                dkga=None if dkga is None else DKGA.parse(dkga),
                vending_key=None if vk is None else _hex_bytes(vk, "vending_key"),
                decoder_key=None if dk is None else _hex_bytes(dk, "decoder_key"),
            )
        except KeyError as exc:
            raise IdentityError(f"meter is missing field {exc.args[0]!r}") from None
        except StsError:
            raise
        except (TypeError, ValueError) as exc:
            raise IdentityError(f"meter has a malformed field: {exc}") from None
