"""The STS encryption algorithms over a 64-bit block given as an ``int``.

* :mod:`~stsgas.sts.ciphers.sta` — EA07, the Standard Transfer Algorithm.
* :mod:`~stsgas.sts.ciphers.dea` — EA09, DES.
* :mod:`~stsgas.sts.ciphers.misty1` — EA11, MISTY1 (RFC 2994).

STA and DEA are weak by today's standards; STS keeps them for the meters in
the field, and so do we: they are here for interoperability, not for new
security designs.
"""

from __future__ import annotations

from stsgas.sts.ciphers.dea import DeaCipher
from stsgas.sts.ciphers.misty1 import Misty1Cipher
from stsgas.sts.ciphers.sta import StaCipher, StaTables

__all__ = ["DeaCipher", "Misty1Cipher", "StaCipher", "StaTables"]
