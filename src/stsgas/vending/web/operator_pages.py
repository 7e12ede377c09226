"""Console pages of operator administration (admins) and of one's own password.

Admins list and create accounts, disable and re-enable them, activate an
account another admin vouched for, reset passwords, lift lockouts and revoke
tokens. Everyone changes their own password, also when an admin's reset keeps
them from signing in. Every action is a call of the ``/api/v1`` API, so its
rules (segregated duties, a second admin) hold here unchanged.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from stsgas.vending.apiclient import ApiProblem, VendingApi, client_of
from stsgas.vending.web import paths
from stsgas.vending.web.forms import signed_form, submit
from stsgas.vending.web.render import error_page, guard, page
from stsgas.vending.web.session import Me, load_me

router = APIRouter(prefix="/console", include_in_schema=False)

#: what each row button does, and what the page says after it
ACTIONS = {
    "disable": "Account disabled; its tokens are revoked.",
    "enable": "Account enabled; a second admin must activate it before it approves.",
    "activate": "Account activated.",
    "unlock": "Lockouts lifted.",
}
ROLES = ("cashier", "supervisor", "auditor", "admin")


def _state(op: dict[str, Any]) -> str:
    if not op.get("is_active"):
        return "disabled"
    if op.get("must_change_password"):
        return "must change password"
    return "active" if op.get("activated_at") else "awaiting a second admin"


async def _list(
    request: Request, me: Me, *, status_code: int = 200, flash: dict[str, str] | None = None
) -> Response:
    rows = await VendingApi(request.app, me.token).get(paths.OPERATORS)
    ops = [{**o, "state": _state(o)} for o in rows]
    return page(
        request,
        "operators.html",
        me,
        "operators",
        status_code=status_code,
        title="Operators",
        operators=ops,
        roles=ROLES,
        flash=flash,
    )


@router.get("/operators", response_class=HTMLResponse)
async def operators(request: Request) -> Response:
    """Every account and its state; the form for a new one."""
    me = await guard(request, "operators")
    return await _list(request, me)


@router.post("/operators")
async def create_operator(
    request: Request,
    username: Annotated[str, Form()],
    role: Annotated[str, Form()],
    password: Annotated[str, Form()],
    display_name: Annotated[str, Form()] = "",
    vendor_id: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Create an account; it waits for a second admin before it may approve."""
    me = await signed_form(request, "operators", csrf)
    body: dict[str, Any] = {
        "username": username,
        "role": role,
        "password": password,
        "display_name": display_name,
    }
    if vendor_id.strip():
        body["vendor_id"] = vendor_id.strip()
    try:
        made = await VendingApi(request.app, me.token).post(paths.OPERATORS, body)
    except ApiProblem as exc:
        return await _list(
            request,
            me,
            status_code=exc.status,
            flash={"kind": "error", "text": f"Not created: {exc.detail}"},
        )
    return RedirectResponse(f"/console/operators/{made['id']}?done=create", status_code=303)


@router.get("/operators/{operator_id}", response_class=HTMLResponse)
async def operator(request: Request, operator_id: int, done: str = "") -> Response:
    """One account: state, actions, lockouts and tokens."""
    me = await guard(request, "operators")
    api = VendingApi(request.app, me.token)
    try:
        found = await api.get(paths.OPERATOR.format(id=operator_id))
    except ApiProblem as exc:
        return error_page(request, me, "operators", "No such operator", exc)
    op = {**found, "state": _state(found)}
    tokens = await api.get(paths.OPERATOR_TOKENS.format(id=operator_id))
    lockouts = await api.get(paths.OPERATOR_LOCKOUTS.format(id=operator_id))
    flash = None
    if done in ACTIONS or done in {"create", "password", "revoke"}:
        text = (
            ACTIONS.get(done)
            or {
                "create": "Account created; a second admin must activate it before it approves.",
                "password": "Temporary password set; the owner must change it to sign in.",
                "revoke": "Token revoked.",
            }[done]
        )
        flash = {"kind": "ok", "text": text}
    return page(
        request,
        "operator.html",
        me,
        "operators",
        title=op["username"],
        op=op,
        tokens=tokens,
        lockouts=lockouts,
        flash=flash,
        is_me=operator_id == me.id,
    )


async def _act(
    request: Request, operator_id: int, csrf: str, path: str, body: Any, done: str
) -> Response:
    return await submit(
        request,
        "operators",
        csrf,
        lambda api: api.post(path.format(id=operator_id), body),
        refused="Not done",
        then=f"/console/operators/{operator_id}?done={done}",
    )


@router.post("/operators/{operator_id}/password")
async def reset_password(
    request: Request,
    operator_id: int,
    password: Annotated[str, Form()],
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Set a temporary password (the owner changes it before signing in)."""
    return await _act(
        request,
        operator_id,
        csrf,
        paths.OPERATOR_ACTION.replace("{action}", "password"),
        {"password": password},
        "password",
    )


@router.post("/operators/{operator_id}/tokens/{token_id}/revoke")
async def revoke_token(
    request: Request,
    operator_id: int,
    token_id: int,
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Revoke one token of the account."""
    path = paths.OPERATOR_TOKEN_REVOKE.replace("{token}", str(token_id))
    return await _act(request, operator_id, csrf, path, None, "revoke")


@router.post("/operators/{operator_id}/{action}")
async def act(
    request: Request,
    operator_id: int,
    action: str,
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Disable, enable, activate or unlock the account."""
    if action not in ACTIONS:
        me = await guard(request, "operators")
        return _error(request, me, "Unknown action", f"No action {action!r}.", status_code=404)
    return await _act(
        request, operator_id, csrf, paths.OPERATOR_ACTION.replace("{action}", action), None, action
    )


def _error(
    request: Request, me: Me, title: str, detail: str, *, status_code: int = 403
) -> Response:
    return page(
        request, "error.html", me, "operators", status_code=status_code, title=title, detail=detail
    )


@router.get("/password", response_class=HTMLResponse)
async def password_form(request: Request, username: str = "", reset: str = "") -> Response:
    """Change one's own password (signed in, or after an admin's reset)."""
    me = await load_me(request)
    return _password_page(
        request, me, username=me.username if me else username[:64], reset=bool(reset)
    )


def _password_page(
    request: Request,
    me: Me | None,
    *,
    username: str,
    reset: bool = False,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    return page(
        request,
        "password.html",
        me,
        "",
        status_code=status_code,
        title="Change password",
        username=username,
        reset=reset,
        error=error,
    )


@router.post("/password")
async def change_password(
    request: Request,
    username: Annotated[str, Form()],
    old_password: Annotated[str, Form()],
    new_password: Annotated[str, Form()],
    repeat: Annotated[str, Form()],
) -> Response:
    """Send the change to the API (counted like a sign-in), then sign in again."""
    me = await load_me(request)
    if me is not None:
        username = me.username
    if new_password != repeat:
        return _password_page(
            request, me, username=username, status_code=422, error="The two new passwords differ."
        )
    try:
        await VendingApi(request.app, None, client=client_of(request)).request(
            "POST",
            paths.PASSWORD,
            json={"username": username, "old_password": old_password, "new_password": new_password},
        )
    except ApiProblem as exc:
        error = {
            "not_authenticated": "Wrong username or current password.",
            "account_locked": "Locked after too many failed attempts. Try again later.",
        }.get(exc.code, exc.detail)
        return _password_page(request, me, username=username, status_code=exc.status, error=error)
    response = RedirectResponse("/console/login?changed=1", status_code=303)
    response.delete_cookie("stsgas_console", path="/")
    return response
