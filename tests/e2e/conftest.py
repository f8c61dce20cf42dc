"""Browser tests: Chromium (Playwright) against the live console, with a real RQ worker and the
CAMS sandbox.

- `console`: the live server (pytest-django), a sandbox, and an RQ worker thread working the real
  queue on settings.REDIS_URL, moving scheduled jobs when due as `--with-scheduler` does.
- `browser_page`: a fresh Chromium page; any console error or uncaught exception fails the test.
"""

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import django_rq
import pytest
from django.db import connections
from playwright.sync_api import ConsoleMessage, Error, Page, Request, sync_playwright
from rq import Queue

from camsconsole.cams.sandbox import SandboxHandle, running_sandbox
from tests.templates_app import worker
from tests.templates_app.conftest import failures, forget_scheduled

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


class WorkerThread(threading.Thread):
    """An RQ worker in this process. With an in-memory SQLite database it shares the test's
    connection, exactly as Django's live server thread does; otherwise it opens its own."""

    def __init__(self, queue: Queue) -> None:
        super().__init__(name="rq-worker", daemon=True)
        self.queue = queue
        self.stopping = threading.Event()
        self.shared = {
            conn.alias: conn
            for conn in connections.all()
            if conn.vendor == "sqlite" and conn.is_in_memory_db()
        }

    def run(self) -> None:
        for alias, conn in self.shared.items():
            connections[alias] = conn
        try:
            while not self.stopping.is_set():
                worker.move_due(self.queue)
                if not (self.queue.count and worker.work(self.queue)):
                    self.stopping.wait(0.1)
        finally:
            if not self.shared:
                connections.close_all()

    def start(self) -> None:
        for conn in self.shared.values():
            conn.inc_thread_sharing()
        super().start()

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=30)
        for conn in self.shared.values():
            conn.dec_thread_sharing()


@dataclass
class Console:
    url: str
    sandbox: SandboxHandle
    queue: Queue


@pytest.fixture
def console(live_server: Any, settings: Any) -> Iterator[Console]:
    # Look at a fresh submission's review every second, as the sandbox reviews in two.
    settings.TEMPLATE_REVIEW_CHECKS = (1,) * 20
    queue = django_rq.get_queue("default")
    queue.empty()
    forget_scheduled(queue)
    failed_before = set(queue.failed_job_registry.get_job_ids())
    with running_sandbox(review_delay=2.0, receipts=False) as sandbox:
        thread = WorkerThread(queue)
        thread.start()
        try:
            yield Console(live_server.url, sandbox, queue)
        finally:
            thread.stop()
            forget_scheduled(queue)
    assert not failures(queue, failed_before)


@pytest.fixture
def browser_page(monkeypatch: pytest.MonkeyPatch) -> Iterator[Page]:
    # Playwright's sync API keeps an event loop in this thread; the test's own ORM calls are
    # plain synchronous ones all the same.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
            args=CHROMIUM_ARGS,
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(10_000)

        def on_console(message: ConsoleMessage) -> None:
            if message.type == "error":
                problems.append(f"console: {message.text} at {message.location}")

        def on_page_error(error: Error) -> None:
            problems.append(f"page error: {error}")

        page.on("console", on_console)
        page.on("pageerror", on_page_error)

        def on_request_failed(request: Request) -> None:
            # A load cut short by the next navigation is the browser's choice, not a fault.
            if request.failure != "net::ERR_ABORTED":
                problems.append(f"request failed: {request.url} ({request.failure})")

        # A blocked or broken request fails the test too.
        page.on("requestfailed", on_request_failed)
        yield page
        browser.close()
        # The test's ORM calls inside this block get a connection of their own (Django keys
        # connections by context, and Playwright's loop gives this block its own); close it, or
        # PostgreSQL refuses to drop the test database.
        connections.close_all()
    assert not problems, problems


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    """Where browser tests save what they saw: $E2E_SCREENSHOT_DIR, or the test's tmp dir."""
    folder = Path(os.environ.get("E2E_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder
