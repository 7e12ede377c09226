"""The customer page's credit policy: the customer's class and debt plan, an emergency
advance asked for, and a new customer class; each form posts to /api/v1 and returns
to the customer page."""

from __future__ import annotations

import contextlib
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from stsgas.vending.apiclient import ApiProblem, VendingApi
from stsgas.vending.web.forms import submit

router = APIRouter(prefix="/console", include_in_schema=False)

CLASSES = "/api/v1/customer-classes"
POLICY = "/api/v1/customers/{id}/policy"
EMERGENCY = "/api/v1/customers/{id}/emergency-credit"


async def policy_view(api: VendingApi, customer_id: int) -> dict[str, Any] | None:
    """The customer's policy and the classes to choose from (None: not readable)."""
    with contextlib.suppress(ApiProblem):
        policy = await api.get(POLICY.format(id=customer_id))
        return {**policy, "classes": await api.get(CLASSES)}
    return None


def plan_body(kind: str, amount: str, percent: str, low: str, high: str) -> dict[str, Any] | None:
    """The API's ``debt_plan`` from the form (None: no plan; the tariff's share applies)."""
    if kind not in {"fixed", "percent"}:
        return None
    body: dict[str, Any] = {"kind": kind}
    if kind == "fixed":
        body["amount"] = amount.strip()
    else:
        body["percent"] = percent.strip()
    if low.strip():
        body["min"] = low.strip()
    if high.strip():
        body["max"] = high.strip()
    return body


def _back(customer_id: int) -> str:
    return f"/console/customers/{customer_id}#policy"


@router.post("/customers/{customer_id}/policy")
async def set_policy(
    request: Request,
    customer_id: int,
    class_code: Annotated[str, Form()] = "",
    plan_kind: Annotated[str, Form()] = "",
    plan_amount: Annotated[str, Form()] = "",
    plan_percent: Annotated[str, Form()] = "",
    plan_min: Annotated[str, Form()] = "",
    plan_max: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Set the customer's class and debt plan."""
    body = {
        "class_code": class_code.strip() or None,
        "debt_plan": plan_body(plan_kind, plan_amount, plan_percent, plan_min, plan_max),
    }
    return await submit(
        request,
        "customers",
        csrf,
        lambda api: api.request("PUT", POLICY.format(id=customer_id), json=body),
        refused="Credit policy not changed",
        then=_back(customer_id),
    )


@router.post("/customers/{customer_id}/emergency-credit")
async def emergency_credit(
    request: Request,
    customer_id: int,
    amount: Annotated[str, Form()],
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """The customer asks for an emergency advance (given with the next sale)."""
    return await submit(
        request,
        "customers",
        csrf,
        lambda api: api.post(EMERGENCY.format(id=customer_id), {"amount": amount.strip()}),
        refused="No emergency credit",
        then=_back(customer_id),
    )


@router.post("/customers/{customer_id}/classes")
async def create_class(
    request: Request,
    customer_id: int,
    code: Annotated[str, Form()],
    name: Annotated[str, Form()] = "",
    free_m3: Annotated[str, Form()] = "",
    free_money: Annotated[str, Form()] = "",
    emergency_max: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Add a customer class, then return to the customer it was made from."""
    body: dict[str, Any] = {"code": code.strip(), "name": name.strip()}
    for key, value in (
        ("free_m3", free_m3),
        ("free_money", free_money),
        ("emergency_max", emergency_max),
    ):
        if value.strip():
            body[key] = value.strip()
    return await submit(
        request,
        "customers",
        csrf,
        lambda api: api.post(CLASSES, body),
        refused="Customer class not added",
        then=_back(customer_id),
    )
