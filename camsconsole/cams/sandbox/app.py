"""The WSGI application: CAMS at `POST /`, the sandbox's own controls under `/_sandbox/`.

A CAMS call goes through the gateway's stages in order: route (x-acs-action, x-acs-version),
signature, throttle storm, QPS limit, injected latency, the operation, and finally the 5xx or
hang a fault plan may substitute for the real answer.
"""

from __future__ import annotations

import sys
import time
import traceback
import uuid
from typing import Any

from camsconsole.cams.sandbox import admin, errors
from camsconsole.cams.sandbox.auth import headers_from_environ, parse_query
from camsconsole.cams.sandbox.operations import OPERATIONS, WITH_SUCCESS
from camsconsole.cams.sandbox.state import SandboxState
from camsconsole.cams.sandbox.wsgi import StartResponse, json_response, read_body

API_VERSION = "2020-06-06"


def new_request_id() -> str:
    # CAMS request ids look like 90E63D28-E31D-1EB2-8939-A9486641****: an upper-case UUID.
    return str(uuid.uuid4()).upper()


class SandboxApp:
    def __init__(self, state: SandboxState) -> None:
        self.state = state

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        path = environ.get("PATH_INFO") or "/"
        if path == "/_sandbox" or path.startswith("/_sandbox/"):
            return admin.handle(self.state, environ, start_response)
        request_id = new_request_id()
        action = environ.get("HTTP_X_ACS_ACTION") or ""
        try:
            payload = self._call(environ, path)
        except errors.ApiError as error:
            if action in OPERATIONS:
                self.state.count_outcome(action, error.code)
            return json_response(
                start_response,
                error.status,
                errors.body(error, request_id),
                [("x-acs-request-id", request_id)],
            )
        except Exception:
            # Our own bug: answer as CAMS would (500), and say so on stderr.
            traceback.print_exc(file=sys.stderr)
            failure = errors.internal_error()
            self.state.count_outcome(action, failure.code)
            return json_response(
                start_response,
                failure.status,
                errors.body(failure, request_id),
                [("x-acs-request-id", request_id)],
            )
        self.state.count_outcome(action, "OK")
        answer = {"RequestId": request_id, "Code": "OK", "Message": "SUCCESS", **payload}
        if action in WITH_SUCCESS:
            answer.setdefault("Success", True)
        return json_response(start_response, 200, answer, [("x-acs-request-id", request_id)])

    def _call(self, environ: dict[str, Any], path: str) -> dict[str, Any]:
        state = self.state
        method = environ.get("REQUEST_METHOD", "GET")
        if path != "/":
            raise errors.api_not_found(path)
        if method not in ("POST", "GET"):
            raise errors.method_not_allowed(method)
        headers = headers_from_environ(environ)
        action = headers.get("x-acs-action", "")
        if not action:
            raise errors.missing("Action")
        operation = OPERATIONS.get(action)
        if operation is None:
            raise errors.api_not_found(action)
        version = headers.get("x-acs-version", "")
        if not version:
            raise errors.missing("Version")
        if version != API_VERSION:
            raise errors.invalid("Version", f"Use {API_VERSION}.")

        body = read_body(environ)
        query_string = environ.get("QUERY_STRING") or ""
        params = parse_query(query_string)
        if body and headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            # The generic V3 scheme allows RPC parameters in a form body (reference §2.3's
            # fallback for very long SenderLists); the signature covers it via the payload hash.
            params.update(parse_query(body.decode("ascii", "replace")))
        key = state.verifier.verify(
            method=method,
            path=path,
            query_string=query_string,
            query=params,
            headers=headers,
            body=body,
        )

        config = state.config
        if state.faults.in_storm(config, action):
            state.limiter.count_throttled(key, action)
            raise errors.limit_control()
        if not state.limiter.admit(key, action, config.qps_limit(action)):
            raise errors.limit_control()

        plan = state.faults.plan(config, action)
        if plan.delay:
            time.sleep(plan.delay)
        if plan.kind is None:
            return operation(state, key, params)
        try:
            if plan.carried_out:
                operation(state, key, params)
        except errors.ApiError:
            pass  # the client hears the fault either way
        finally:
            if plan.kind == "hang":
                state.faults.hang(config, environ.get("waitress.client_disconnected"))
        if plan.kind == "hang":
            # Released while the client still waits (hang_seconds, or the sandbox stops).
            raise errors.service_unavailable()
        raise state.rng.choice((errors.internal_error, errors.service_unavailable))()
