"""What a request's answer was, told to the observers of the request guard (``kit.guard``).

The guard is the app's one ASGI wrapper; it times each request and keeps the
little the observers need (``ops.metrics`` counts from it). A sale notes its
channel and token classes here while it is built (:func:`note_sale`), so a
201 is counted without reading its receipt back out of the response body.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, MutableMapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ROUTE",
    "Answer",
    "Notes",
    "Observer",
    "SaleFacts",
    "current_notes",
    "note_sale",
    "serve_before_routing",
]


@dataclass(frozen=True, slots=True)
class SaleFacts:
    """What the metrics count of an issued sale."""

    channel: str
    token_classes: tuple[int, ...]


class Notes:
    """Facts the code serving one request leaves for its answer (one per request)."""

    __slots__ = ("sale",)

    def __init__(self) -> None:
        self.sale: SaleFacts | None = None


#: the notes of the request being served (set by the guard; None outside a request)
current_notes: ContextVar[Notes | None] = ContextVar("stsgas_answer_notes", default=None)


def note_sale(channel: str, token_classes: Iterable[int]) -> None:
    """Record the sale this request is issuing (a retried attempt replaces the last)."""
    notes = current_notes.get()
    if notes is not None:
        notes.sale = SaleFacts(channel, tuple(token_classes))


#: the scope key naming the route template of a request answered before FastAPI's router
#: (which sets ``scope["route"]`` for the rest)
ROUTE = "stsgas.route"


def serve_before_routing(scope: MutableMapping[str, Any], template: str) -> None:
    """Say that a middleware answers this request itself, as route ``template`` (the
    metrics label it so, not as an unmatched path)."""
    scope[ROUTE] = template


@dataclass(frozen=True, slots=True, kw_only=True)
class Answer:
    """One finished HTTP answer, as the guard saw it leave."""

    status: int
    seconds: float
    #: the answer carried ``Idempotent-Replayed: true`` (a replay issues nothing)
    replayed: bool
    #: the body of a problem+json or replayed answer (small, off the hot path), else None
    body: bytes | None
    #: the sale the request issued, if it issued one
    sale: SaleFacts | None


#: called by the guard with the request's scope and answer, after the answer is sent
Observer = Callable[[MutableMapping[str, Any], Answer], None]
