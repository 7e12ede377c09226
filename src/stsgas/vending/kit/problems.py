"""problem+json (RFC 9457) rendering of every error, with a stable ``code``.

One place maps exceptions to HTTP: :class:`~stsgas.vending.errors.VendingError`
by its class, ``stsgas.sts.StsError`` by its own ``code`` (422), request
validation to ``invalid_input`` and database constraint violations to
``conflict`` (the transaction was rolled back, nothing was written).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError, StatementError
from starlette.exceptions import HTTPException as StarletteHTTPException

from stsgas.sts import StsError
from stsgas.vending.errors import VendingError
from stsgas.vending.logs import current_request_id
from stsgas.vending.transaction import ValueRefused

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://stsgas.invalid/problems/"


def problem(status: int, code: str, title: str, detail: str, **extra: Any) -> JSONResponse:
    """A problem+json response; ``extra`` members are added beside the standard ones.

    Inside a request it carries the request's id (``request_id``), the same as in
    the ``X-Request-ID`` header and on the request's log lines.
    """
    body: dict[str, Any] = {
        "type": TYPE_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    body.update(extra)
    if "request_id" not in body and (request_id := current_request_id()) is not None:
        body["request_id"] = request_id
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE)


def vending_problem(exc: VendingError) -> JSONResponse:
    """Render a domain error (also usable by endpoints that must not raise)."""
    return problem(exc.status_code, exc.code, exc.title, exc.detail, **exc.extra)


def error_response(exc: VendingError) -> JSONResponse:
    """A domain error as the API answers it: problem+json with its auth and retry headers."""
    response = vending_problem(exc)
    if exc.status_code == 401:
        response.headers["WWW-Authenticate"] = "Bearer"
    retry_after = exc.extra.get("retry_after")
    if isinstance(retry_after, int):
        response.headers["Retry-After"] = str(retry_after)
    return response


async def _vending(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, VendingError)
    return error_response(exc)


def sts_problem(exc: StsError) -> JSONResponse:
    """An STS rule broken by the request (status 422, the error's own code)."""
    return problem(422, exc.code, "STS rule violated", str(exc))


def refused(exc: VendingError | StsError | ValueRefused) -> JSONResponse:
    """The answer to what a handler outside FastAPI's router (an ASGI shim) raised, as
    the app's exception handlers give it: a domain error, a broken STS rule, a value
    the database refused."""
    if isinstance(exc, VendingError):
        return error_response(exc)
    if isinstance(exc, StsError):
        return sts_problem(exc)
    return invalid_value()


#: what :func:`refused` answers
REFUSALS = (VendingError, StsError, ValueRefused)


def _invalid_input(detail: str, **extra: Any) -> JSONResponse:
    """422 ``invalid_input``: the client's value, refused before anything was kept."""
    return problem(422, "invalid_input", "Invalid input", detail, **extra)


def invalid_value() -> JSONResponse:
    """The database refused a value the schema let through."""
    # a NUL byte in text, a number past its column's range: the client's input,
    # so 422; nothing was kept
    return _invalid_input("a value cannot be stored (a NUL character, or a number out of range)")


async def _sts(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StsError)
    return sts_problem(exc)


async def _validation(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", ""))}
        for e in exc.errors()
    ]
    money = [e for e in exc.errors() if e.get("type") == "bad_amount"]
    if money:
        # an amount the one money parser refused (kit.money): the one money code
        return problem(422, "bad_amount", "Bad amount", str(money[0].get("msg", "")), errors=errors)
    return _invalid_input("the request is malformed", errors=errors)


async def _integrity(_request: Request, exc: Exception) -> JSONResponse:
    return problem(409, "conflict", "Conflict", "the change conflicts with existing data")


async def _data(_request: Request, exc: Exception) -> JSONResponse:
    return invalid_value()


async def _statement(request: Request, exc: Exception) -> JSONResponse:
    # a value that failed on its way to the database (a bind processor), not in it
    assert isinstance(exc, StatementError)
    if isinstance(exc.orig, OverflowError):
        return await _overflow(request, exc.orig)
    raise exc


async def _overflow(_request: Request, exc: Exception) -> JSONResponse:
    # a date at the edge of the calendar moved past it (year 9999 + a day, a -14:00
    # offset turned to UTC): the client's value, 422 on either database
    return _invalid_input("a value is out of range (a date too near year 1 or 9999, or a number)")


async def _http(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}.get(
        exc.status_code, "http_error"
    )
    response = problem(exc.status_code, code, str(exc.detail), str(exc.detail))
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    app.add_exception_handler(VendingError, _vending)
    app.add_exception_handler(StsError, _sts)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(IntegrityError, _integrity)
    app.add_exception_handler(DataError, _data)
    app.add_exception_handler(OverflowError, _overflow)
    app.add_exception_handler(StatementError, _statement)
    app.add_exception_handler(StarletteHTTPException, _http)
