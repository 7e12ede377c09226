"""The in-process client of the vending REST API, for the console and the SMS webhook.

Both front ends are built on the public ``/api/v1`` contract, not on internals:
each call goes through the same authentication, per-object checks,
idempotency and transaction boundary as any other client. The transport is
``httpx.ASGITransport`` over the running app, so no socket and no second
server are involved.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
from starlette.requests import Request
from starlette.types import ASGIApp

__all__ = ["ApiProblem", "VendingApi", "client_of"]


class ApiProblem(Exception):
    """A problem+json answer from the API, kept whole for the page to show."""

    def __init__(self, status: int, code: str, detail: str, body: Mapping[str, Any]) -> None:
        super().__init__(f"{status} {code}: {detail}")
        self.status = status
        self.code = code
        self.detail = detail
        self.body = dict(body)


class VendingApi:
    """Calls ``/api/v1`` on ``app`` with the operator's bearer token."""

    def __init__(
        self, app: ASGIApp, token: str | None, *, client: tuple[str, int] | None = None
    ) -> None:
        self._app = app
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        #: the browser's address, passed on so password lockout counts its real source
        self._client = client

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
    ) -> httpx.Response:
        """One call (``files``: a multipart upload); a non-2xx answer raises :class:`ApiProblem`."""
        transport = (
            httpx.ASGITransport(app=self._app)
            if self._client is None
            else httpx.ASGITransport(app=self._app, client=self._client)
        )
        async with httpx.AsyncClient(transport=transport, base_url="http://console.local") as c:
            response = await c.request(
                method,
                path,
                params={k: v for k, v in (params or {}).items() if v not in (None, "")},
                json=json,
                files=files,
                headers={**self._headers, **(headers or {})},
            )
        if response.is_success:
            return response
        raise _problem(response)

    async def get(self, path: str, **params: Any) -> Any:
        """GET and decode JSON."""
        return (await self.request("GET", path, params=params)).json()

    async def post(self, path: str, body: Any, *, headers: Mapping[str, str] | None = None) -> Any:
        """POST JSON and decode the JSON answer."""
        return (await self.request("POST", path, json=body, headers=headers)).json()


def client_of(request: Request) -> tuple[str, int]:
    """The browser's address and port, for calls whose source matters (sign-in)."""
    if request.client is None:
        return ("unknown", 0)
    return (request.client.host, request.client.port)


def _problem(response: httpx.Response) -> ApiProblem:
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    detail = body.get("detail")
    if not isinstance(detail, str):
        detail = body.get("title") or f"request failed ({response.status_code})"
    return ApiProblem(response.status_code, str(body.get("code", "error")), str(detail), body)
