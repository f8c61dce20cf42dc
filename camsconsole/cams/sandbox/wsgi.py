"""Small WSGI helpers shared by the CAMS endpoint and the sandbox's own endpoints."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from camsconsole.cams.sandbox import errors

MAX_BODY_BYTES = 10 * 1024 * 1024

StartResponse = Callable[..., Any]

_REASONS = {
    200: "OK",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def json_response(
    start_response: StartResponse,
    status: int,
    payload: Any,
    extra_headers: Iterable[tuple[str, str]] = (),
) -> list[bytes]:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    headers = [
        ("Content-Type", "application/json;charset=utf-8"),
        ("Content-Length", str(len(body))),
        *extra_headers,
    ]
    start_response(f"{status} {_REASONS.get(status, 'Error')}", headers)
    return [body]


def read_body(environ: dict[str, Any]) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length <= 0:
        return b""
    if length > MAX_BODY_BYTES:
        raise errors.invalid("ContentLength", "The request body is too large.")
    data: bytes = environ["wsgi.input"].read(length)
    return data
