"""Health probes for a load balancer or an orchestrator; no authentication.

* ``GET /healthz`` — the process answers (200), without touching the
  database: restart the worker when it fails.
* ``GET /readyz`` — the worker can sell (200): the database answers a trivial
  query and the key custody opens the vending key of every supply group.
  Otherwise 503 problem+json with ``code`` ``database_unavailable``,
  ``no_master_key`` or ``key_custody_failed``: send it no traffic.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from stsgas.vending.keys.security import KeyCustodyError, KeyRef, SecurityModule
from stsgas.vending.kit.problems import problem
from stsgas.vending.supply_groups.repository import SupplyGroupRepository

router = APIRouter(tags=["operations"])


class NotReady(Exception):
    """Why the worker cannot sell: a problem code and one line."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


@router.get("/healthz", response_model=None)
async def healthz() -> dict[str, str]:
    """Alive: the worker's event loop answers (the database is not asked)."""
    return {"status": "alive"}


@router.get(
    "/readyz",
    response_model=None,
    responses={503: {"description": "not ready (problem+json with a code)"}},
)
async def readyz(request: Request) -> Response | dict[str, Any]:
    """Ready to sell: the database answers and the master key opens its vending keys."""
    try:
        groups = await run_in_threadpool(_probe, request)
    except NotReady as exc:
        response = problem(503, exc.code, "Not ready", exc.detail)
        response.headers["Retry-After"] = "5"
        return response
    return {"status": "ready", "database": "ok", "key_custody": "ok", "supply_groups": groups}


def _probe(request: Request) -> int:
    """Run the checks in a worker thread; the number of supply groups whose key opened."""
    state = request.app.state
    security: SecurityModule | None = state.security_module
    try:
        with state.sessionmaker() as session:
            if session.get_bind().dialect.name == "sqlite":  # a reader: no write lock
                session.connection(execution_options={"sqlite_begin": "DEFERRED"})
            session.execute(text("SELECT 1"))
            groups = SupplyGroupRepository(session).all()
    except SQLAlchemyError as exc:
        raise NotReady(
            "database_unavailable", f"the database does not answer ({type(exc).__name__})"
        ) from None
    if security is None:
        raise NotReady(
            "no_master_key",
            "no master key is configured (STSGAS_MASTER_KEY_FILE or STSGAS_MASTER_KEY)",
        )
    for group in groups:
        try:
            security.check(KeyRef(sgc=group.sgc, krn=group.krn), group.vending_key_enc)
        except KeyCustodyError:
            raise NotReady(
                "key_custody_failed",
                f"the master key does not open the vending key of supply group "
                f"{group.sgc}/KRN {group.krn}",
            ) from None
    return len(groups)
