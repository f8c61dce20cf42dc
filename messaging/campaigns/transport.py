"""Sending mass calls without re-encoding their URLs.

A SendChatappMassMessage with 1,000 recipients carries ~120 kB of parameters in its URL, as the
official SDK sends them (reference §2.3). requests and urllib3 re-validate and re-encode every
URL in pure Python, byte by byte: measured here, ~100 ms of CPU per such call (requote_uri,
parse_url, _encode_target), which at ten calls a second is a whole core, and most of it lands
between the rate-limit slot and the moment CAMS sees the call, where every millisecond of
jitter counts (ratelimit.py: the 3 % margin is the budget for it).

The CAMS client has already encoded and signed the call (CamsClient.prepare), so this sender
writes it with http.client as it is: one keep-alive connection per lane, its failures classified
as the client classifies them (errors.py): refused or unreachable before sending -> retryable;
a timeout or a connection broken once the request is out -> ambiguous. The answer goes through
the client's own parsing, so codes, throttling and RequestIds read exactly the same.
"""

import http.client
import select
import socket
import ssl
import urllib.parse
from typing import Any

from django.conf import settings

from camsconsole.cams import errors
from camsconsole.cams.client import PreparedCall, _parse

# Shorter URLs go through the CAMS client as usual.
LONG_URL = 16 * 1024


class _Answer:
    """What the client's _parse reads from an answer."""

    def __init__(self, status: int, content: bytes, headers: http.client.HTTPMessage) -> None:
        self.status_code = status
        self.content = content
        self.headers = {name.lower(): value for name, value in headers.items()}

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")


def _timeouts() -> tuple[float, float]:
    timeout = settings.CAMS_TIMEOUT
    if isinstance(timeout, tuple | list):
        return float(timeout[0]), float(timeout[1])
    return float(timeout), float(timeout)


class Sender:
    """Sends prepared calls over one keep-alive connection (one per lane: not thread-safe)."""

    def __init__(self) -> None:
        self._connection: http.client.HTTPConnection | None = None
        self._origin = ""

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _open(self, url: str) -> tuple[http.client.HTTPConnection, str]:
        parts = urllib.parse.urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        target = f"{parts.path or '/'}?{parts.query}" if parts.query else parts.path or "/"
        connection = self._connection
        if connection is not None and (origin != self._origin or _dropped(connection)):
            self.close()
            connection = None
        if connection is None:
            connect, _ = _timeouts()
            host = parts.hostname or ""
            if parts.scheme == "https":
                context = ssl.create_default_context()
                connection = http.client.HTTPSConnection(
                    host, parts.port, timeout=connect, context=context
                )
            else:
                connection = http.client.HTTPConnection(host, parts.port, timeout=connect)
            try:
                connection.connect()
            except OSError as exc:  # refused, unreachable, DNS, connect timeout: nothing sent
                connection.close()
                raise errors.CamsUnreachable(errors.UNREACHABLE, str(exc)) from exc
            self._connection, self._origin = connection, origin
        return connection, target

    def send(self, prepared: PreparedCall) -> dict[str, Any]:
        connection, target = self._open(prepared.url)
        _, read = _timeouts()
        try:
            if connection.sock is not None:
                connection.sock.settimeout(read)
            connection.request("POST", target, body=b"", headers=prepared.headers)
            response = connection.getresponse()
            content = response.read()
        except (TimeoutError, socket.timeout) as exc:
            self.close()
            raise errors.CamsAmbiguous(errors.TIMEOUT, str(exc)) from exc
        except (OSError, http.client.HTTPException) as exc:
            # The request may have reached CAMS before the connection broke.
            self.close()
            raise errors.CamsAmbiguous(errors.CONNECTION_BROKEN, str(exc)) from exc
        if response.will_close:
            self.close()
        return _parse(_Answer(response.status, content, response.headers))  # type: ignore[arg-type]


def _dropped(connection: http.client.HTTPConnection) -> bool:
    """Whether the server closed an idle keep-alive connection (it then reads as ready)."""
    sock = connection.sock
    if sock is None:
        return True
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)
