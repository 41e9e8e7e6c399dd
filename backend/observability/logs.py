"""Log lines that carry the request id, as text or as JSON lines (`LOG_FORMAT=json`), with
credentials in URLs (`/api/stream?token=...`) redacted.

The id lives in a context variable set by `RequestIdMiddleware`; asyncio tasks
and the thread pool that runs sync endpoints copy it, so every line logged while
a request is handled (uvicorn's access line included) names that request.
"""

from __future__ import annotations

import datetime as dt
import logging
import logging.config
import re
from contextvars import ContextVar
from typing import Any

import orjson

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"
# LogRecord attributes that are not "extra" fields a caller passed.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message", "asctime", "request_id", "taskName",
}  # fmt: skip


class RequestIdFilter(logging.Filter):
    """Stamp every record with the current request id (`-` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get() or "-"
        return True


# Query parameters that carry a credential: a WebSocket cannot send a header from a browser,
# so `/api/stream?token=` (and `?ticket=`) put one in the URL that uvicorn logs.
_SECRET_QUERY = re.compile(r"([?&](?:token|ticket|access_token|api_key)=)[^&#\s\"']*", re.I)
REDACTED = "[redacted]"


def redact(text: str) -> str:
    """`text` with the values of credential query parameters replaced by `[redacted]`."""
    return _SECRET_QUERY.sub(lambda m: m.group(1) + REDACTED, text)


class RedactSecretsFilter(logging.Filter):
    """Redact credential query parameters in a record's message and string arguments
    (uvicorn's access line passes the path with its query as an argument)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            args = record.args.items()
            record.args = {k: redact(v) if isinstance(v, str) else v for k, v in args}
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, extras, exception."""

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, object] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or request_id.get(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                document[key] = value
        if record.exc_info:
            document["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(document, default=str).decode()


def logging_config(level: str = "info", fmt: str = "text") -> dict[str, Any]:
    """A `logging.config.dictConfig` document: one stderr handler, uvicorn's loggers into it.

    Given to uvicorn as `log_config`, so that each worker process applies it too.
    """
    formatter: dict[str, Any] = (
        {"()": "backend.observability.logs.JsonFormatter"}
        if fmt == "json"
        else {"format": TEXT_FORMAT}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "request_id": {"()": "backend.observability.logs.RequestIdFilter"},
            "redact": {"()": "backend.observability.logs.RedactSecretsFilter"},
        },
        "formatters": {"default": formatter},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "filters": ["request_id", "redact"],
            }
        },
        "root": {"handlers": ["stderr"], "level": level.upper()},
        "loggers": {
            # The filter on uvicorn's own loggers too: a handler added to them later (by an
            # operator's configuration) must not see the secrets either.
            name: {"handlers": [], "propagate": True, "level": level.upper(), "filters": ["redact"]}
            for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
        },
    }


def configure_logging(level: str = "info", fmt: str = "text") -> None:
    logging.config.dictConfig(logging_config(level, fmt))
