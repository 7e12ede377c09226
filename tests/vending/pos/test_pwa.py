"""The POS installs as a web app: a manifest with PNG icons that exist, a service worker
served from a path that may control /pos, and the POS page linking the manifest."""

from __future__ import annotations

import struct
from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.vending.web.conftest import console, signed_in  # noqa: F401  (fixtures)


def test_manifest_and_icons(console: TestClient) -> None:  # noqa: F811
    """The manifest opens /pos standalone; each icon it names is a PNG of its size."""
    r = console.get("/pos/manifest.webmanifest")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/manifest+json"
    manifest = r.json()
    assert (manifest["start_url"], manifest["scope"], manifest["display"]) == (
        "/pos",
        "/pos",
        "standalone",
    )
    assert manifest["name"]
    sizes = []
    for icon in manifest["icons"]:
        png = console.get(icon["src"])
        assert png.status_code == 200
        assert png.headers["content-type"] == "image/png"
        assert png.content[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", png.content[16:24])
        assert icon["sizes"] == f"{width}x{height}"
        sizes.append(width)
    assert 192 in sizes
    assert 512 in sizes
    assert console.get("/pos/icon-100.png").status_code == 404


def test_service_worker_is_served_to_control_pos(console: TestClient) -> None:  # noqa: F811
    """/pos-sw.js is JavaScript, revalidated on every visit, and lies above /pos."""
    r = console.get("/pos-sw.js")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/javascript")
    assert r.headers["cache-control"] == "no-cache"
    assert 'const PAGE = "/pos"' in r.text


def test_pos_page_links_the_manifest_and_the_queue(
    console: TestClient,  # noqa: F811
    signed_in: Callable[[str], str],  # noqa: F811
) -> None:
    """The POS page names the manifest and loads the queue before the page's script."""
    signed_in("shopcashier")
    page = console.get("/pos").text
    assert '<link rel="manifest" href="/pos/manifest.webmanifest">' in page
    assert page.index("pos-queue.js") < page.index("pos.js")
    assert 'data-operator="shopcashier"' in page


def test_pos_float_and_session_need_the_session(
    console: TestClient,  # noqa: F811
    signed_in: Callable[[str], str],  # noqa: F811
) -> None:
    """The float (minor units) needs the session and its CSRF value; signed out: 401."""
    assert console.get("/pos/api/session").status_code == 401
    csrf = signed_in("shopcashier")
    session = console.get("/pos/api/session").json()
    assert session == {"username": "shopcashier", "csrf": csrf}
    assert console.get("/pos/api/float").status_code == 403
    answer = console.get("/pos/api/float", headers={"X-CSRF-Token": csrf}).json()
    assert answer == {"float_minor": 1_000_000, "decimals": 2}
