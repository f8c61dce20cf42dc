"""The sandbox's own JSON endpoints under /_sandbox/ (no CAMS signature; loopback only).

    GET  /_sandbox/health      alive, and where
    GET  /_sandbox/ledger      counts, per-operation calls, duplicates, rates, receipts, faults;
                               ?entries=1&offset=0&limit=100[&to=...][&task_id=...] adds rows
    POST /_sandbox/reset       forget sends, counters, queued receipts (and templates, unless
                               the body is {"templates": false})
    GET  /_sandbox/config      the current config (secrets masked)
    POST /_sandbox/config      change faults, receipts, QPS...: {"hang_ratio": 0.2, "qps": {...}}
    GET  /_sandbox/callbacks   receipt URLs
    POST /_sandbox/callbacks   {"url": "...", "from": "6580001111"}; without "from": the default
    POST /_sandbox/inbound     a user writes now: {"From": user, "To": business number,
                               "Type": "TEXT", "Message": "hi"} or Type REPLY with "Payload"
                               and "Text"; opens the 24-hour window and pushes ChatAppInbound

Loopback only because they bypass authentication: they can reset the ledger and change faults.
"""

from __future__ import annotations

import ipaddress
import json
import urllib.parse
from typing import TYPE_CHECKING, Any

from camsconsole.cams.sandbox.wsgi import StartResponse, json_response, read_body

if TYPE_CHECKING:
    from camsconsole.cams.sandbox.state import SandboxState


class _BadRequest(Exception):
    pass


def is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def _json_body(environ: dict[str, Any]) -> dict[str, Any]:
    raw = read_body(environ)
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise _BadRequest(f"body is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise _BadRequest("body must be a JSON object")
    return data


def _flag(value: str | None) -> bool:
    return (value or "").lower() in {"1", "true", "yes", "on"}


def _int(query: dict[str, str], name: str, default: int) -> int:
    try:
        return int(query.get(name, default))
    except ValueError as exc:
        raise _BadRequest(f"{name} must be an integer") from exc


def handle(
    state: SandboxState, environ: dict[str, Any], start_response: StartResponse
) -> list[bytes]:
    if not is_loopback(str(environ.get("REMOTE_ADDR", ""))):
        return json_response(start_response, 403, {"error": "the sandbox API is loopback-only"})
    method = environ.get("REQUEST_METHOD", "GET")
    path = (environ.get("PATH_INFO") or "").rstrip("/")
    query = dict(urllib.parse.parse_qsl(environ.get("QUERY_STRING") or ""))
    try:
        result = _route(state, method, path, query, environ)
    except _BadRequest as exc:
        return json_response(start_response, 400, {"error": str(exc)})
    except ValueError as exc:  # a refused config value
        return json_response(start_response, 400, {"error": str(exc)})
    if result is None:
        return json_response(start_response, 404, {"error": f"no {method} {path}"})
    return json_response(start_response, 200, result)


def _route(
    state: SandboxState,
    method: str,
    path: str,
    query: dict[str, str],
    environ: dict[str, Any],
) -> dict[str, Any] | None:
    if method == "GET" and path in ("/_sandbox", "/_sandbox/health"):
        config = state.config
        return {
            "ok": True,
            "access_key_id": config.access_key_id,
            "started_at": state.started_at,
            "ledger_messages": len(state.ledger),
        }
    if method == "GET" and path == "/_sandbox/ledger":
        return state.report(
            entries=_flag(query.get("entries")),
            offset=_int(query, "offset", 0),
            limit=_int(query, "limit", 100),
            to=query.get("to"),
            task_id=query.get("task_id"),
        )
    if method == "POST" and path == "/_sandbox/reset":
        body = _json_body(environ)
        state.reset(templates=bool(body.get("templates", True)))
        return {"ok": True}
    if path == "/_sandbox/config":
        if method == "POST":
            state.configure(_json_body(environ))
        elif method != "GET":
            return None
        return state.config.public()
    if path == "/_sandbox/callbacks":
        if method == "POST":
            body = _json_body(environ)
            url = body.get("url")
            if url is not None and not str(url).startswith(("http://", "https://")):
                raise _BadRequest("url must be an http(s) URL or null")
            sender = body.get("from", body.get("From"))
            state.receipts.callbacks.set(url, None if sender is None else str(sender))
        elif method != "GET":
            return None
        return state.receipts.callbacks.as_json()
    if method == "POST" and path == "/_sandbox/inbound":
        body = _json_body(environ)
        user, business = body.get("From"), body.get("To")
        if not user or not business:
            raise _BadRequest("From (the user) and To (the business number) are required")
        receipt = state.inbound(
            user=str(user),
            business_number=str(business),
            message_type=str(body.get("Type") or "TEXT"),
            message=body.get("Message"),
            payload=body.get("Payload"),
            button_text=body.get("Text"),
            cust_space_id=str(body.get("CustSpaceId") or ""),
            access_key_id=body.get("AccessKeyId"),
        )
        return {"MessageId": receipt["MessageId"], "receipt": receipt}
    return None
