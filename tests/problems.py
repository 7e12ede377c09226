"""The check every refusal test makes of an HTTP answer: problem+json with a stable code."""

from __future__ import annotations

from typing import Any

__all__ = ["problem"]


def problem(r: Any, status: int, code: str) -> dict[str, Any]:
    """``r``'s problem+json body, once its status, media type and stable ``code`` are
    checked (``r`` is an httpx or test-client response)."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json", r.headers
    body: dict[str, Any] = r.json()
    assert body["code"] == code, body
    return body
