"""Serving the sandbox: `serve(config)` for the command, `running_sandbox()` for tests.

Why waitress, in one process with threads: the sandbox's whole value is its shared in-memory
state (ledger, QPS windows, nonces, templates, receipt queue), so every request must see the
same memory. gunicorn would need a single worker for that and cannot run inside a test's
thread; waitress runs in-process (a background thread in tests), is a production-grade server
(HTTP/1.1 keep-alive, back-pressure, no dev-server caveats) and takes a header-size limit we
can raise: a 1,000-recipient SenderList puts ~120 kB in the request line, far beyond the usual
8 kB. The GIL caps us at about one core, which the benchmark shows is still several times the
documented CAMS rates.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import signal
import sys
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import waitress
from waitress.server import BaseWSGIServer, MultiSocketServer
from waitress.wasyncore import close_all, loop

from camsconsole.cams.sandbox.app import SandboxApp
from camsconsole.cams.sandbox.config import SandboxConfig
from camsconsole.cams.sandbox.ledger import Entry
from camsconsole.cams.sandbox.state import SandboxState

# Generous: the request line plus headers of a 1,000-recipient call with long parameters.
MAX_HEADER_BYTES = 8 * 1024 * 1024


def make_server(
    state: SandboxState, *, loop_timeout: float = 1.0
) -> BaseWSGIServer | MultiSocketServer:
    config = state.config
    return waitress.create_server(
        SandboxApp(state),
        host=config.host,
        port=config.port,
        threads=config.threads,
        max_request_header_size=MAX_HEADER_BYTES,
        # Benchmarks open many keep-alive connections; refuse none of them.
        connection_limit=2000,
        backlog=2048,
        # With one request of look-ahead, waitress keeps reading the socket while a request
        # runs, so a hung call notices when its client gives up (waitress.client_disconnected).
        channel_request_lookahead=1,
        asyncore_use_poll=True,
        asyncore_loop_timeout=loop_timeout,
        ident="cams-sandbox",
        expose_tracebacks=False,
    )


def serve(config: SandboxConfig) -> None:
    """Run the sandbox until interrupted."""
    state = SandboxState(config)
    state.start()
    server = make_server(state)
    port = getattr(server, "effective_port", config.port)
    limits = ", ".join(f"{op} {config.qps_limit(op)}" for op in sorted(config.public()["qps"]))
    receipts = f"to {config.callback_url or '(no default URL yet)'}" if config.receipts else "off"
    print(
        f"CAMS sandbox listening on http://{config.host}:{port}/\n"
        f"  AccessKey ID {config.access_key_id}\n"
        f"  receipts {receipts}\n"
        f"  QPS: {limits}\n"
        f"  controls: http://{config.host}:{port}/_sandbox/ledger (loopback only)",
        file=sys.stderr,
        flush=True,
    )
    if threading.current_thread() is threading.main_thread():

        def stop(signum: int, frame: object) -> None:
            # Release hung calls first, or waitress would wait for their threads.
            state.stopping.set()
            raise SystemExit(0)

        # `make run` stops its children with SIGTERM; waitress closes cleanly on SystemExit.
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
    try:
        server.run()
    finally:
        state.stop()


class SandboxHandle:
    """A sandbox running in a background thread, with its controls as methods."""

    def __init__(self, state: SandboxState, server: BaseWSGIServer) -> None:
        self.state = state
        self._server = server
        self.host = state.config.host
        self.port: int = server.effective_port
        self.endpoint = f"{self.host}:{self.port}"
        self.url = f"http://{self.endpoint}"
        self._loop_timeout: float = server.adj.asyncore_loop_timeout
        self._stop_loop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="sandbox-http", daemon=True)

    @property
    def config(self) -> SandboxConfig:
        return self.state.config

    @property
    def access_key_id(self) -> str:
        return self.state.config.access_key_id

    @property
    def access_key_secret(self) -> str:
        return self.state.config.access_key_secret

    def start(self) -> None:
        self.state.start()
        self._thread.start()

    def _serve(self) -> None:
        # waitress's own run() loops until its socket map is empty, and closing that map from
        # another thread races with the loop (and with the trigger pipe it sleeps on). This
        # loop checks a flag between polls and closes the sockets itself, in its own thread.
        server_map = self._server._map
        try:
            while not self._stop_loop.is_set() and server_map:
                loop(timeout=self._loop_timeout, use_poll=True, map=server_map, count=1)
        finally:
            close_all(server_map)

    def close(self) -> None:
        # Release hung calls first so the worker threads can finish; then no thread of this
        # server is left to touch a socket when the loop closes them all.
        self.state.stopping.set()
        self._server.task_dispatcher.shutdown(timeout=5)
        self._stop_loop.set()
        self._thread.join(timeout=5)
        self.state.stop()

    # -- controls (what the /_sandbox/ endpoints do) -------------------------------------

    def ledger(self, entries: bool = False, **options: Any) -> dict[str, Any]:
        return self.state.report(entries=entries, **options)

    def entry(self, message_id: str) -> Entry | None:
        seq = self.state.ledger.seq_of(message_id)
        return None if seq is None else self.state.ledger.entry(seq)

    def reset(self, templates: bool = True) -> None:
        self.state.reset(templates=templates)

    def configure(self, **changes: Any) -> SandboxConfig:
        """Change faults, receipt behaviour or QPS limits while running."""
        return self.state.configure(changes)

    def set_callback(self, url: str | None, sender: str | None = None) -> None:
        self.state.receipts.callbacks.set(url, sender)

    def inbound(self, user: str, business_number: str, **options: Any) -> dict[str, Any]:
        return self.state.inbound(user=user, business_number=business_number, **options)

    def wait_receipts(self, timeout: float = 10.0) -> bool:
        """Wait until no receipt is queued or being pushed."""
        return self.state.receipts.wait_idle(timeout)

    def admin(self, path: str, payload: dict[str, Any] | None = None) -> Any:
        """Call a /_sandbox/ endpoint over HTTP (GET, or POST with a JSON payload)."""
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(  # noqa: S310 - our own loopback URL
            f"{self.url}/_sandbox/{path.lstrip('/')}",
            data=data,
            method="GET" if payload is None else "POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return json.loads(response.read())


@contextmanager
def running_sandbox(
    config: SandboxConfig | None = None, **overrides: Any
) -> Iterator[SandboxHandle]:
    """A sandbox on a free loopback port for the duration of the block.

    `overrides` are SandboxConfig fields applied on top of `config`; the port is 0 (a free one)
    unless given there.
    """
    base = config or SandboxConfig()
    overrides.setdefault("port", 0)
    # Tests and benchmarks deliberately queue more calls than threads; waitress's
    # "Task queue depth" warning would only be noise there.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    state = SandboxState(dataclasses.replace(base, **overrides))
    server = make_server(state, loop_timeout=0.05)
    if not isinstance(server, BaseWSGIServer):  # pragma: no cover - one address, one server
        raise RuntimeError("the sandbox listens on exactly one address")
    handle = SandboxHandle(state, server)
    handle.start()
    try:
        yield handle
    finally:
        handle.close()
