"""Console page for tariffs: every version with its fixed charge and period, and (for
admins) a form that adds a version, e.g. to make the fixed charge monthly."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from stsgas.vending.apiclient import ApiProblem, VendingApi
from stsgas.vending.kit.money import PERCENT_PER_BP
from stsgas.vending.kit.volume import LITRE, LITRES_PER_M3
from stsgas.vending.web import paths
from stsgas.vending.web.render import guard, page
from stsgas.vending.web.session import check_csrf
from stsgas.vending.web.views import money, parse_amount

router = APIRouter(prefix="/console", include_in_schema=False)

PERIODS = {"sale": "per sale", "month": "per month"}


class StepsError(ValueError):
    """A steps line that is not ``<up to m³ or -> <price per m³>``."""


def parse_steps(text: str) -> list[dict[str, Any]]:
    """Price steps typed one per line as ``10 1.50`` (up to 10 m³ of the month at 1.50
    per m³) and ``- 3.10`` (no upper limit), into the API's litres and major units."""
    steps = []
    for n, line in enumerate((ln for ln in text.splitlines() if ln.strip()), start=1):
        parts = line.split()
        price = parse_amount(parts[1]) if len(parts) == 2 else None
        if price is None or not (parts[0] == "-" or parts[0].isdigit()):
            raise StepsError(f"step {n}: write '<up to m³> <price>', or '- <price>' last")
        up_to = None if parts[0] == "-" else int(parts[0]) * LITRES_PER_M3
        steps.append({"up_to_litres": up_to, "price_per_m3": price})  # major units
    return steps


def _up_to(litres: int | None) -> str:
    return "rest" if litres is None else f"{(litres * LITRE).normalize():f} m³"


def _version_view(v: dict[str, Any]) -> dict[str, Any]:
    steps = ", ".join(
        f"{_up_to(s['up_to_litres'])} at {money(s['price_per_m3'])}" for s in v.get("steps", ())
    )
    return {
        "version": v["version"],
        "effective_from": str(v["effective_from"])[:16].replace("T", " "),
        "fixed": f"{money(v['fixed_charge'])} {PERIODS.get(v['fixed_charge_period'], '')}",
        "tax": f"{v['tax_rate_bp'] * PERCENT_PER_BP} %",
        "recovery": f"{v['debt_recovery_bp'] * PERCENT_PER_BP} %",
        "steps": steps,
    }


async def _show(request: Request, error: str | None = None, status_code: int = 200) -> Response:
    me = await guard(request, "tariffs")
    body = await VendingApi(request.app, me.token).get(paths.TARIFFS)
    tariffs = [
        {**t, "rows": [_version_view(v) for v in t["versions"]]}
        for t in (body["items"] if isinstance(body, dict) else body)
    ]
    return page(
        request,
        "tariffs.html",
        me,
        "tariffs",
        title="Tariffs",
        tariffs=tariffs,
        can_edit=me.role == "admin",
        periods=PERIODS,
        error=error,
        status_code=status_code,
    )


@router.get("/tariffs", response_class=HTMLResponse)
async def tariffs(request: Request) -> Response:
    """Every tariff with its versions."""
    return await _show(request)


@router.post("/tariffs/{tariff_id}/versions")
async def add_version(
    request: Request,
    tariff_id: int,
    effective_from: Annotated[str, Form()],
    fixed_charge: Annotated[str, Form()],
    fixed_charge_period: Annotated[str, Form()],
    steps: Annotated[str, Form()],
    tax_rate_bp: Annotated[int, Form()] = 0,
    debt_recovery_bp: Annotated[int, Form()] = 0,
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Add a version from the form (times are UTC); the API checks the rest."""
    me = await guard(request, "tariffs")
    if not check_csrf(me.token, csrf):
        return await _show(request, "The form was stale; try again.", 403)
    fixed = parse_amount(fixed_charge) if fixed_charge.strip() not in ("", "0") else "0"
    if fixed is None:
        return await _show(request, "Enter the fixed charge as an amount, e.g. 5.00.", 422)
    try:
        body = {
            "effective_from": f"{effective_from}:00+00:00"
            if len(effective_from) == 16
            else effective_from,
            "fixed_charge": fixed,
            "fixed_charge_period": fixed_charge_period,
            "tax_rate_bp": tax_rate_bp,
            "debt_recovery_bp": debt_recovery_bp,
            "steps": parse_steps(steps),
        }
        await VendingApi(request.app, me.token).post(
            paths.TARIFF_VERSIONS.format(id=tariff_id), body
        )
    except StepsError as exc:
        return await _show(request, str(exc), 422)
    except ApiProblem as exc:
        return await _show(request, f"Version not added: {exc.detail} ({exc.code})", 422)
    return RedirectResponse("/console/tariffs", status_code=303)
