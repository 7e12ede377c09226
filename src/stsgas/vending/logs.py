"""Structured logs: one renderer (JSON or console) for stsgas, uvicorn and its access log.

Every log line goes through the standard library's ``logging`` and one
:class:`structlog.stdlib.ProcessorFormatter`, so a line from stsgas, from
uvicorn, from uvicorn's access log or from a library looks the same: JSON in
production (``STSGAS_LOG_FORMAT=json``, the default), aligned text for a
person at a terminal (``console``, what ``make run`` uses).

The request guard binds the request id into structlog's context variables
(:func:`bind_request_id`); every line logged while that request is handled,
the access line included, carries ``request_id``, and every problem+json
answer carries the same id (:func:`current_request_id`).

Secrets stay out: the SQL statement logger (whose parameters hold password
hashes, wrapped keys and tokens) is held at WARNING whatever the level, and a
last processor masks any field named like a secret and any bearer token or
``password=`` text in a message.
"""

from __future__ import annotations

import logging
import logging.config
import re
from collections.abc import MutableMapping
from typing import Any, Final, Literal

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

__all__ = [
    "LogFormat",
    "bind_request_id",
    "configure",
    "current_request_id",
    "dict_config",
    "formatter",
]

LogFormat = Literal["json", "console"]

MASK: Final = "***"
#: a field whose name contains one of these holds a secret: its value is never shown
_SECRET_NAMES: Final = (
    "password",
    "passwd",
    "secret",
    "token",
    "authorization",
    "cookie",
    "master_key",
    "vending_key",
    "key_hex",
    "pin",
)
_SECRET_TEXT: Final = re.compile(
    r"(?i)(bearer\s+|(?:password|passwd|secret|token|pin)\s*[=:]\s*)[^\s,;&\"']+"
)
#: loggers held at WARNING at every level: what they log at INFO/DEBUG carries secrets
_QUIET: Final = {
    "sqlalchemy.engine": "WARNING",  # SQL with its parameters
    "sqlalchemy.pool": "WARNING",
    "multipart": "INFO",  # form parsing, byte by byte
    "python_multipart": "INFO",
    "httpcore": "INFO",
    "hpack": "INFO",
    "asyncio": "INFO",
}


def bind_request_id(request_id: str) -> None:
    """Tag every log line of the current request (its own task and threads) with its id.

    Each ASGI request runs in a task of its own whose context is a copy, so the
    binding ends with the request; nothing needs resetting.
    """
    structlog.contextvars.bind_contextvars(request_id=request_id)


def current_request_id() -> str | None:
    """The id of the request being handled, if any (for problem+json bodies)."""
    value = structlog.contextvars.get_contextvars().get("request_id")
    return value if isinstance(value, str) else None


def _is_secret_name(name: str) -> bool:
    lowered = name.lower()
    return any(part in lowered for part in _SECRET_NAMES)


def _mask(value: Any, depth: int = 0) -> Any:
    if isinstance(value, str):
        return _SECRET_TEXT.sub(lambda m: m.group(1) + MASK, value)
    if depth < 4 and isinstance(value, MutableMapping):
        return {
            k: MASK if isinstance(k, str) and _is_secret_name(k) else _mask(v, depth + 1)
            for k, v in value.items()
        }
    if depth < 4 and isinstance(value, list | tuple):
        return [_mask(v, depth + 1) for v in value]
    return value


def mask_secrets(_logger: WrappedLogger, _name: str, event: EventDict) -> EventDict:
    """Mask fields named like secrets and bearer/password text in every value."""
    for key in list(event):
        if key.startswith("_"):
            continue
        if _is_secret_name(key) and key != "request_id":
            event[key] = MASK
        else:
            event[key] = _mask(event[key])
    return event


def _access_fields(_logger: WrappedLogger, _name: str, event: EventDict) -> EventDict:
    """uvicorn's access line as fields: client, method, path, status."""
    args = event.pop("positional_args", None)
    event.pop("color_message", None)  # uvicorn's copy of the message with terminal colours
    record = event.get("_record")
    is_access = record is not None and record.name == "uvicorn.access"
    if is_access and isinstance(args, tuple) and len(args) == 5:
        client, method, path, version, status = args
        event.update(
            event="request",
            client=client,
            method=method,
            path=str(path).split("?", 1)[0],  # a query string is not logged
            http_version=version,
            status=status,
        )
    return event


def _shared() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.ExtraAdder(),
        _access_fields,
    ]


def formatter(fmt: LogFormat = "json") -> logging.Formatter:
    """The one formatter of every handler: JSON lines, or the console renderer."""
    renderer: Processor
    if fmt == "console":
        renderer = structlog.dev.ConsoleRenderer(colors=False)
    else:
        renderer = structlog.processors.JSONRenderer()
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_shared(),
        pass_foreign_args=True,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            mask_secrets,
            renderer,
        ],
    )


def dict_config(fmt: LogFormat = "json", level: str = "INFO") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for the server (uvicorn's ``log_config``): root,
    uvicorn and its access log all write to stderr through :func:`formatter`."""
    level = level.upper()
    loggers: dict[str, Any] = {
        name: {"handlers": [], "propagate": True, "level": level}
        for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
    }
    for name, floor in _QUIET.items():
        loggers[name] = {"level": floor if _rank(level) < _rank(floor) else level}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "stsgas": {"()": "stsgas.vending.logs.formatter", "fmt": fmt},
        },
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "stsgas",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": loggers,
    }


def _rank(level: str) -> int:
    found = logging.getLevelName(level)
    return found if isinstance(found, int) else logging.INFO


def configure(fmt: LogFormat = "json", level: str = "INFO") -> None:
    """Route all logging through the stsgas renderer (a process's first step)."""
    logging.config.dictConfig(dict_config(fmt, level))
    structlog.configure(
        processors=[
            *_shared()[:-2],
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def get_logger(name: str) -> Any:
    """A structlog logger writing through the standard library (call after configure)."""
    return structlog.stdlib.get_logger(name)
