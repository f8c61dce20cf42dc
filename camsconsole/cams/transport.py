"""The HTTP connection to CAMS: a signed call written as it is, over kept-alive connections.

Why not requests: a SendChatappMassMessage with 1,000 recipients carries ~150 kB of parameters
in its URL (reference §2.3), and requests and urllib3 re-validate and re-encode a URL in pure
Python, several times per call. Measured here for such a call: ~28 ms of CPU through
requests.Session.post, ~0.9 ms through http.client. At ten calls a second that is a quarter of a
core, and it falls between the rate-limit slot and the moment CAMS counts the call, where any
jitter breaks a strict per-second limit (messaging/ratelimit.py). The client has already encoded
and signed the call (CamsClient.prepare); this module only writes it.

Failures are classified by whether the request can have reached CAMS (errors.py): failing to
connect (refused, DNS, TLS, a proxy, the connect timeout) is CamsUnreachable, retryable; a timeout
or a broken connection once the request is out is CamsAmbiguous.

An `https_proxy` from the environment is honoured for https endpoints (a CONNECT tunnel), as
requests did; `no_proxy` exempts hosts.
"""

from __future__ import annotations

import http.client
import select
import ssl
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass

from camsconsole.cams import errors

# A kept-alive connection idle longer than this is closed rather than reused: a server may have
# dropped it meanwhile, and a request written into a dropped connection reads as ambiguous.
IDLE_SECONDS = 20.0


@dataclass(frozen=True)
class Answer:
    status: int
    content: bytes
    headers: Mapping[str, str]  # names in lower case

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")


class Connections:
    """Kept-alive connections to one endpoint, shared by any number of threads: each call takes
    an idle connection (or opens one) and gives it back once the answer is read."""

    def __init__(self, endpoint: str, timeout: float | tuple[float, float]) -> None:
        parts = urllib.parse.urlsplit(endpoint)
        self._https = parts.scheme == "https"
        self._host = parts.hostname or ""
        self._port = parts.port
        self._connect_timeout, self._read_timeout = (
            (float(timeout[0]), float(timeout[1]))
            if isinstance(timeout, tuple)
            else (float(timeout), float(timeout))
        )
        self._idle: list[tuple[http.client.HTTPConnection, float]] = []
        self._lock = threading.Lock()

    def post(self, target: str, headers: Mapping[str, str]) -> Answer:
        """POST `target` (path and query, already encoded) with an empty body."""
        connection = self._take()
        try:
            if connection.sock is not None:  # connected: the read timeout applies from here
                connection.sock.settimeout(self._read_timeout)
            connection.request("POST", target, body=b"", headers=dict(headers))
            response = connection.getresponse()
            content = response.read()
        except TimeoutError as exc:
            connection.close()
            raise errors.CamsAmbiguous(errors.TIMEOUT, f"no answer in time: {exc}") from exc
        except (OSError, http.client.HTTPException) as exc:
            # The request may have reached CAMS before the connection broke.
            connection.close()
            raise errors.CamsAmbiguous(errors.CONNECTION_BROKEN, repr(exc)) from exc
        answer = Answer(
            response.status,
            content,
            {name.lower(): value for name, value in response.getheaders()},
        )
        if response.will_close:
            connection.close()
        else:
            with self._lock:
                self._idle.append((connection, time.monotonic()))
        return answer

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for connection, _ in idle:
            connection.close()

    def _take(self) -> http.client.HTTPConnection:
        while True:
            with self._lock:
                if not self._idle:
                    break
                connection, since = self._idle.pop()
            if time.monotonic() - since < IDLE_SECONDS and not _dropped(connection):
                return connection
            connection.close()
        connection = self._new()
        try:
            connection.connect()
        except OSError as exc:  # nothing was sent
            connection.close()
            raise errors.CamsUnreachable(errors.UNREACHABLE, repr(exc)) from exc
        return connection

    def _new(self) -> http.client.HTTPConnection:
        if not self._https:
            return http.client.HTTPConnection(self._host, self._port, timeout=self._connect_timeout)
        context = ssl.create_default_context()
        proxy = urllib.request.getproxies().get("https")
        if not proxy or urllib.request.proxy_bypass(self._host):
            return http.client.HTTPSConnection(
                self._host, self._port, timeout=self._connect_timeout, context=context
            )
        via = urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}")
        connection = http.client.HTTPSConnection(
            via.hostname or "", via.port or 8080, timeout=self._connect_timeout, context=context
        )
        connection.set_tunnel(self._host, self._port or 443)
        return connection


def _dropped(connection: http.client.HTTPConnection) -> bool:
    """Whether the server closed an idle connection (its socket then reads as ready)."""
    if connection.sock is None:
        return True
    try:
        readable, _, _ = select.select([connection.sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)
