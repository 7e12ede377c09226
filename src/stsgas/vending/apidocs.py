"""The API's documentation pages, Swagger UI and ReDoc, served with their assets by the app.

FastAPI's default pages load Swagger UI from a CDN, so they are blank on a
utility's closed network. The scripts and styles ship in the ``fastapi-offline``
package; this module serves them from ``/api/v1/docs-assets`` and points both
pages at them, so the docs need nothing but the server. A Content-Security-Policy
keeps the pages from reaching any other host (ReDoc's menu shows its maker's logo
from their CDN; blocked, the image hides itself).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

DOCS_URL = "/api/v1/docs"
REDOC_URL = "/api/v1/redoc"
ASSETS_URL = "/api/v1/docs-assets"
ASSETS_DIR = Path(str(files("fastapi_offline") / "static"))
#: only this server; inline code for Swagger UI's start-up script and ReDoc's styles
CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


def _with_csp(response: HTMLResponse) -> HTMLResponse:
    response.headers["Content-Security-Policy"] = CSP
    return response


def install(app: FastAPI) -> None:
    """Add the Swagger UI and ReDoc pages and their assets (the app has ``docs_url=None``)."""
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS_DIR), name="docs-assets")

    def _asset(request: Request, name: str) -> str:
        return f"{request.scope.get('root_path', '')}{ASSETS_URL}/{name}"

    def _openapi(request: Request) -> str:
        return f"{request.scope.get('root_path', '')}{app.openapi_url}"

    @app.get(DOCS_URL, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        return _with_csp(
            get_swagger_ui_html(
                openapi_url=_openapi(request),
                title=f"{app.title} - Swagger UI",
                swagger_js_url=_asset(request, "swagger-ui-bundle.js"),
                swagger_css_url=_asset(request, "swagger-ui.css"),
                swagger_favicon_url=_asset(request, "favicon.png"),
                oauth2_redirect_url=None,
                # no badge fetched from the public validator service
                swagger_ui_parameters={**(app.swagger_ui_parameters or {}), "validatorUrl": None},
            )
        )

    @app.get(REDOC_URL, include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        return _with_csp(
            get_redoc_html(
                openapi_url=_openapi(request),
                title=f"{app.title} - ReDoc",
                redoc_js_url=_asset(request, "redoc.standalone.js"),
                redoc_favicon_url=_asset(request, "favicon.png"),
                with_google_fonts=False,
            )
        )
