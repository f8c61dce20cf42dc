"""Fixtures for talking to the CAMS sandbox over real HTTP.

- `sandbox`: a fresh sandbox on a free loopback port, fast receipts, reviews that end at once.
- `receiver`: a tiny threaded HTTP server that records the receipt arrays pushed to it.
- `client`: our CamsClient pointed at the sandbox.
- `raw_call`: one signed request whose headers a test may break on purpose.
- `approved_template`: a template that has passed review, ready for sending.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from camsconsole.cams import signing
from camsconsole.cams.client import API_VERSION, CamsClient, encode_params, wire_query
from camsconsole.cams.sandbox import SandboxHandle, running_sandbox

SENDER = "6580001111"
USER = "6590002222"
BODY = [{"Type": "BODY", "Text": "Hi {{1}}, your order {{2}} has shipped."}]
EXAMPLE = {"1": "Alice", "2": "ORD-1"}

# Short everything: receipts in tens of milliseconds, retries within a second.
FAST: dict[str, Any] = {
    "review_delay": 0.0,
    "sent_delay": 0.03,
    "delivered_delay": 0.03,
    "read_delay": 0.03,
    "inbound_delay": 0.03,
    "duplicate_delay": 0.05,
    "receipt_retry_delays": (0.1, 0.2),
    "receipt_timeout": 1.0,
    "seed": 20260606,
}


@pytest.fixture
def sandbox() -> Iterator[SandboxHandle]:
    with running_sandbox(**FAST) as handle:
        yield handle


@pytest.fixture
def client(sandbox: SandboxHandle) -> Iterator[CamsClient]:
    with CamsClient(
        access_key_id=sandbox.access_key_id,
        access_key_secret=sandbox.access_key_secret,
        endpoint=sandbox.url,
        timeout=(2.0, 5.0),
    ) as cams:
        yield cams


def create_template(
    cams: CamsClient,
    name: str = "order_update",
    language: str = "en",
    components: list[dict[str, Any]] | None = None,
    category: str = "UTILITY",
) -> str:
    ref = cams.create_template(
        template_type="WHATSAPP",
        name=name,
        language=language,
        category=category,
        components=components or BODY,
        example=EXAMPLE,
    )
    return ref.template_code


@pytest.fixture
def approved_template(sandbox: SandboxHandle, client: CamsClient) -> str:
    """A template code that can be sent at once (the sandbox fixture reviews instantly).

    Its ChatAppAudit receipt is out of the way (no callback URL yet) before the test starts.
    """
    code = create_template(client)
    sandbox.wait_receipts()
    return code


class Receiver:
    """Records every JSON array POSTed to it; answers as the console's webhook does."""

    def __init__(self) -> None:
        self.batches: list[tuple[str, list[dict[str, Any]]]] = []
        self.attempts = 0
        self.lock = threading.Lock()
        # Answers to give before answering normally: (status, body bytes).
        self.scripted: list[tuple[int, bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length))
                with receiver.lock:
                    receiver.attempts += 1
                    scripted = receiver.scripted.pop(0) if receiver.scripted else None
                    if scripted is None:
                        receiver.batches.append((self.path, body))
                status, answer = scripted or (200, b'{"code":0,"msg":"success"}')
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    def receipts(self, path: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [
                receipt
                for batch_path, batch in self.batches
                if path is None or batch_path == path
                for receipt in batch
            ]

    def wait_for(
        self, predicate: Callable[[list[dict[str, Any]]], bool], timeout: float = 5.0
    ) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            receipts = self.receipts()
            if predicate(receipts):
                return receipts
            time.sleep(0.01)
        raise AssertionError(f"receipts never matched; got {self.receipts()}")

    def wait_count(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        return self.wait_for(lambda receipts: len(receipts) >= count, timeout)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


RawCall = Callable[..., requests.Response]


@pytest.fixture
def raw_call(sandbox: SandboxHandle) -> RawCall:
    """Sign and send one call by hand, so a test can break any part of it.

    Keywords: `secret`, `access_key_id`, `now` (aware datetime), `nonce`, `headers` (changes
    after signing; None deletes), `wire` (the query string to send instead), `body`.
    """

    def call(
        action: str,
        params: dict[str, Any] | None = None,
        *,
        secret: str | None = None,
        access_key_id: str | None = None,
        now: dt.datetime | None = None,
        nonce: str | None = None,
        headers: dict[str, str | None] | None = None,
        wire: str | None = None,
        body: bytes = b"",
    ) -> requests.Response:
        query = encode_params(params or {})
        signed = signing.sign_headers(
            access_key_id=access_key_id or sandbox.access_key_id,
            access_key_secret=secret or sandbox.access_key_secret,
            host=sandbox.endpoint,
            action=action,
            version=API_VERSION,
            query=query,
            body=body,
            now=now,
            nonce=nonce,
        )
        for name, value in (headers or {}).items():
            if value is None:
                signed.pop(name, None)
            else:
                signed[name] = value
        url = f"{sandbox.url}/?{wire if wire is not None else wire_query(query)}"
        return requests.post(url, data=body, headers=signed, timeout=10)

    return call


def template_send(template_code: str, to: str = USER, **extra: Any) -> dict[str, Any]:
    """SendChatappMessage parameters for a template message."""
    return {
        "ChannelType": "whatsapp",
        "Type": "template",
        "From": SENDER,
        "To": to,
        "TemplateCode": template_code,
        "Language": "en",
        "TemplateParams": {"1": "Alice", "2": "ORD-42"},
        **extra,
    }
