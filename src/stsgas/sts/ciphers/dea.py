"""EA09, the Data Encryption Algorithm (single DES) over one 64-bit block.

DES is broken by exhaustive search; STS keeps it for EA09 meters. The decoder
key is used in IEC order (most significant byte first) as the DES key. No
public vectors exist for EA09 tokens (see docs/sts.md); DES itself, and that
byte order, are pinned by published known-answer vectors (NBS/NIST
variable-plaintext, variable-key and S-box tests, the FIPS 81 example) in
tests/sts/test_dea.py.

We run single DES as three-key TDEA with K1 = K2 = K3, which is the same
function and keeps to the library's non-deprecated key sizes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes

from stsgas.sts.errors import DecoderKeyError

__all__ = ["DeaCipher", "des_encrypt_block"]

_CACHE_LIMIT: Final = 4096


def _contexts(key: bytes) -> tuple[Any, Any]:
    if len(key) != 8:
        raise DecoderKeyError("a DES key is 8 bytes")
    cipher = Cipher(TripleDES(key * 3), modes.ECB())
    return cipher.encryptor(), cipher.decryptor()


def des_encrypt_block(key: bytes, block: bytes) -> bytes:
    """DES-encrypt one 8-byte block (used by DKGA02)."""
    enc, _ = _contexts(key)
    out: bytes = enc.update(block)
    return out


@dataclass(slots=True)
class DeaCipher:
    """DES over 64-bit ints; keys are 64-bit ints in IEC order."""

    _cache: dict[int, tuple[Any, Any]] = field(default_factory=dict, repr=False)

    def _ctx(self, key: int) -> tuple[Any, Any]:
        ctx = self._cache.get(key)
        if ctx is None:
            if not 0 <= key < 1 << 64:
                raise DecoderKeyError("a DEA decoder key is 64 bits")
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            ctx = self._cache[key] = _contexts(key.to_bytes(8, "big"))
        return ctx

    def encrypt(self, key: int, block: int) -> int:
        """Encrypt one 64-bit block."""
        return int.from_bytes(self._ctx(key)[0].update(block.to_bytes(8, "big")), "big")

    def decrypt(self, key: int, block: int) -> int:
        """Decrypt one 64-bit block."""
        return int.from_bytes(self._ctx(key)[1].update(block.to_bytes(8, "big")), "big")

    def encrypt_many(self, key: int, blocks: bytes) -> bytes:
        """Encrypt concatenated 8-byte blocks under one key (ECB, for bulk vending)."""
        out: bytes = self._ctx(key)[0].update(blocks)
        return out

    def decrypt_many(self, key: int, blocks: bytes) -> bytes:
        """Decrypt concatenated 8-byte blocks under one key (ECB, for bulk decoding)."""
        out: bytes = self._ctx(key)[1].update(blocks)
        return out
