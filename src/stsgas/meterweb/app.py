"""The meter page's app: one HTML page, its script and style, and a small JSON API.

Every URL is relative to where the app is mounted (``/meter/`` beside the
vending console, or ``/`` alone), so the page works in both places. Bad input
is a problem+json answer with a stable ``code``; nothing reaches the meter.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from stsgas.meter.query import CODES
from stsgas.meterweb.desk import BadInput, MeterDesk, NoSuchMeter, Snapshot

__all__ = ["SECURITY_HEADERS", "create_app"]

SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'self'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
_STATIC = {"meter.js": "text/javascript", "meter.css": "text/css"}
#: a JSON body larger than this is refused (the largest real one is a few keys)
MAX_BODY = 4096


def _problem(status: int, code: str, title: str, detail: str) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, "code": code}
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


def _static(name: str) -> Any:
    return resources.files("stsgas.meterweb").joinpath(f"static/{name}")


async def _body(request: Request) -> dict[str, Any]:
    """The JSON object sent; a body over MAX_BODY is refused as soon as it is announced or
    read that far (never waited for or kept whole)."""
    too_large = BadInput("too_large", f"the request body is larger than {MAX_BODY} bytes")
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_BODY:
        raise too_large
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY:
            raise too_large
    if not raw:
        return {}
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):  # nesting too deep: not JSON here
        raise BadInput("bad_json", "the body is not JSON") from None
    if not isinstance(doc, dict):
        raise BadInput("bad_json", "the body is a JSON object")
    return doc


def create_app(desk: MeterDesk, *, close_desk: bool = True) -> FastAPI:
    """The app over ``desk``; its lifespan closes the desk (NVM files) at shutdown."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            if close_desk:
                await run_in_threadpool(desk.close)

    app = FastAPI(
        title="stsgas virtual meter",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
    )
    app.state.desk = desk

    @app.exception_handler(BadInput)
    async def bad_input(request: Request, exc: BadInput) -> Response:
        return _problem(422, exc.code, "bad input", exc.detail)

    @app.exception_handler(NoSuchMeter)
    async def no_meter(request: Request, exc: NoSuchMeter) -> Response:
        return _problem(404, "no_such_meter", "no such meter", str(exc))

    @app.get("/", include_in_schema=False)
    async def page() -> Response:
        html = _static("index.html").read_bytes()
        return Response(html, media_type="text/html", headers=SECURITY_HEADERS)

    @app.get("/static/{name}", include_in_schema=False)
    async def static(name: str) -> Response:
        if name not in _STATIC:
            return _problem(404, "not_found", "not found", f"no file {name}")
        text = _static(name).read_bytes()
        return Response(text, media_type=_STATIC[name], headers=SECURITY_HEADERS)

    def answer(snap: Snapshot) -> JSONResponse:
        return JSONResponse(snap.to_json(), headers={"Cache-Control": "no-store"})

    @app.get("/api/codes")
    async def codes() -> JSONResponse:
        # pairs, not an object: a script would put "10" before "01" (integer-like keys first)
        return JSONResponse({"codes": [[code, what] for code, (what, _) in CODES.items()]})

    @app.get("/api/meters")
    async def meters() -> JSONResponse:
        snaps = [await run_in_threadpool(desk.state, drn) for drn in desk.ids]
        return JSONResponse(
            {"meters": [s.to_json() for s in snaps]}, headers={"Cache-Control": "no-store"}
        )

    @app.get("/api/meters/{drn}")
    async def one(drn: str) -> JSONResponse:
        return answer(await run_in_threadpool(desk.state, drn))

    def action(path: str, call: Callable[[str, dict[str, Any]], Snapshot]) -> None:
        async def endpoint(drn: str, request: Request) -> JSONResponse:
            body = await _body(request)
            return answer(await run_in_threadpool(call, drn, body))

        app.add_api_route(f"/api/meters/{{drn}}/{path}", endpoint, methods=["POST"], name=path)

    action("keys", lambda drn, b: desk.press(drn, b.get("keys")))
    action("flow", lambda drn, b: desk.flow(drn, b.get("litres")))
    action("advance", lambda drn, b: desk.advance(drn, b.get("hours")))
    action("battery", lambda drn, b: desk.set_battery(drn, b.get("volts")))
    action("battery/replace", lambda drn, b: desk.replace_battery(drn))
    action("magnet", lambda drn, b: desk.magnet(drn, b.get("present")))
    action("power", lambda drn, b: desk.power(drn, b.get("on")))
    action("open-key", lambda drn, b: desk.open_key(drn))
    return app
