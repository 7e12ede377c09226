"""The POS as an installable web app: its manifest, icons and service worker.

The service worker is served from ``/pos-sw.js`` so that it may control the
``/pos`` scope (a worker controls only paths under its own folder); it keeps
the POS shell (the page, its script and styles) so that the page opens with no
network. The icons are drawn here as PNGs, so nothing binary ships for them.
"""

from __future__ import annotations

import struct
import zlib
from functools import cache
from typing import Final

from fastapi import APIRouter, HTTPException
from fastapi.responses import JSONResponse, Response

from stsgas.vending.web.render import STATIC_DIR

router = APIRouter(include_in_schema=False)

ICON_SIZES: Final = (192, 512)
#: the brand colour (the console's top bar) and the flame drawn on it
_BACK: Final = (0x1F, 0x3A, 0x5F)
_FLAME: Final = (0xF2, 0x8C, 0x28)

MANIFEST: Final = {
    "name": "stsgas POS",
    "short_name": "Gas POS",
    "description": "Sell prepaid gas tokens, also with no network.",
    "start_url": "/pos",
    "scope": "/pos",
    "display": "standalone",
    "background_color": "#ffffff",
    "theme_color": "#1f3a5f",
    "icons": [
        {"src": f"/pos/icon-{n}.png", "sizes": f"{n}x{n}", "type": "image/png", "purpose": "any"}
        for n in ICON_SIZES
    ],
}


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


@cache
def icon_png(size: int) -> bytes:
    """A square PNG of ``size`` pixels: a flame-coloured disc on the brand colour."""
    centre, radius = (size - 1) / 2, size * 0.3
    rows = []
    for y in range(size):
        row = bytearray(b"\x00")  # filter: none
        for x in range(size):
            inside = (x - centre) ** 2 + (y - centre) ** 2 <= radius**2
            row += bytes(_FLAME if inside else _BACK)
        rows.append(bytes(row))
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + _chunk(b"IEND", b"")
    )


@router.get("/pos/manifest.webmanifest")
async def manifest() -> Response:
    """The web app manifest: installs the POS with its own icon, opening on /pos."""
    return JSONResponse(MANIFEST, media_type="application/manifest+json")


@router.get("/pos/icon-{size}.png")
async def icon(size: int) -> Response:
    """The app icon at one of the manifest's sizes."""
    if size not in ICON_SIZES:
        raise HTTPException(status_code=404)
    return Response(
        icon_png(size), media_type="image/png", headers={"Cache-Control": "max-age=86400"}
    )


@router.get("/pos-sw.js")
async def service_worker() -> Response:
    """The POS service worker; never cached by HTTP, so a new version takes over."""
    return Response(
        (STATIC_DIR / "pos-sw.js").read_bytes(),
        media_type="text/javascript",
        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
    )
