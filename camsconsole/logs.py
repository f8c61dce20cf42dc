"""Structured logs: one JSON object per line, each with the request id of the request it belongs
to, and never a secret: receipt-hook tokens, signatures and AccessKey secrets are masked in the
text of every line, whoever logged it (Django's own "Not Found: /hooks/cams/<token>/" included)."""

import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.http import HttpRequest, HttpResponse

request_id: ContextVar[str] = ContextVar("request_id", default="")

_SECRETS = [
    (re.compile(r"(/hooks/cams/)[^/\s?\"']+"), r"\1***"),
    (re.compile(r"(Signature=)[0-9a-fA-F]+"), r"\1***"),
    (
        re.compile(
            r"((?:AccessKeySecret|access_key_secret|password|token)[\"']?\s*[:=]\s*[\"']?)"
            r"[^\s\"',}]+",
            re.IGNORECASE,
        ),
        r"\1***",
    ),
]
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def redact(text: str) -> str:
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record_id := getattr(record, "request_id", "") or request_id.get():
            entry["request_id"] = record_id
        for key in ("method", "path", "status", "duration_ms", "user", "job_id"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        # Masked field by field, before JSON escaping hides the patterns.
        clean = {k: redact(v) if isinstance(v, str) else v for k, v in entry.items()}
        return json.dumps(clean, default=str, ensure_ascii=False)


class RequestLogMiddleware:
    """Gives every request an id (the proxy's X-Request-ID when it is sane), echoes it back, and
    logs one line per request."""

    logger = logging.getLogger("camsconsole.request")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        rid = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        token = request_id.set(rid)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = rid
            user = getattr(request, "user", None)
            self.logger.info(
                "request",
                extra={
                    "request_id": rid,
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                    "user": user.get_username() if user and user.is_authenticated else None,
                },
            )
            return response
        finally:
            request_id.reset(token)
