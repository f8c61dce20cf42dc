"""`make run`: the whole console in one terminal, stopped together by Ctrl-C."""

import contextlib
import os
import signal
import subprocess
import sys
import time
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.management.base import BaseCommand

from camsconsole.embedded_redis import embedded_redis
from camsconsole.models import Sender

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class Command(BaseCommand):
    help = (
        "Start the embedded Redis (unless REDIS_URL is set), the CAMS sandbox (when CAMS_ENDPOINT "
        "is a loopback address), an RQ worker with the scheduler and the gunicorn web server."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--bind", default=os.environ.get("CONSOLE_BIND", "127.0.0.1:8000"))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("RQ_WORKERS", 1)))

    def handle(self, *args: Any, **options: Any) -> None:
        with contextlib.ExitStack() as stack:
            env = dict(os.environ)
            if not os.environ.get("REDIS_URL"):
                env["REDIS_URL"] = stack.enter_context(embedded_redis(settings.EMBEDDED_REDIS_PORT))
                self.stdout.write(f"embedded Redis at {env['REDIS_URL']}")
            processes: list[subprocess.Popen] = []
            stack.callback(self._stop, processes)
            manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
            endpoint = urlsplit(settings.CAMS_ENDPOINT)
            if endpoint.hostname in LOOPBACK:
                port = str(endpoint.port or 80)
                processes.append(
                    subprocess.Popen([*manage, "cams_sandbox", "--port", port], env=env)
                )
                self._point_sandbox_at_console(settings.CAMS_ENDPOINT)
            for _ in range(options["workers"]):
                worker = [*manage, "rqworker", "--with-scheduler", *settings.RQ_QUEUES]
                processes.append(subprocess.Popen(worker, env=env))
            # The periodic jobs (sweeper, template status sync) run on the workers' RQ scheduler
            # as self-renewing chains; these start them (safe to repeat).
            for command in (["messaging_sweep", "--schedule"], ["sync_templates", "--schedule"]):
                subprocess.run([*manage, *command], env=env, check=True)
            web = [
                sys.executable,
                "-m",
                "gunicorn",
                "camsconsole.wsgi",
                "--bind",
                options["bind"],
                "--workers",
                "2",
                "--threads",
                "4",
                # No gunicorn access log: it would print receipt-hook tokens; camsconsole.logs
                # writes one JSON line per request with them masked.
            ]
            processes.append(subprocess.Popen(web, env=env))
            self.stdout.write(self.style.SUCCESS(f"CAMS Console: http://{options['bind']}/"))
            self._wait(processes)

    def _point_sandbox_at_console(self, endpoint: str) -> None:
        """Do what an operator does in CAMS: set each sender's callback URL, and the account's
        (template review notices) to the first channel's (sandbox-only API)."""
        senders = list(Sender.objects.select_related("channel").order_by("pk"))
        callbacks = [{"From": s.sender_id, "url": s.channel.callback_url} for s in senders]
        callbacks += [{"url": senders[0].channel.callback_url}] if senders else []
        for _ in range(100):
            try:
                for body in callbacks:
                    requests.post(
                        f"{endpoint}/_sandbox/callbacks", json=body, timeout=2
                    ).raise_for_status()
                return
            except requests.RequestException:
                time.sleep(0.1)
        self.stderr.write("the sandbox did not answer; receipts will not reach the console")

    def _wait(self, processes: list[subprocess.Popen]) -> None:
        stop = False

        def interrupted(*_: Any) -> None:
            nonlocal stop
            stop = True

        signal.signal(signal.SIGINT, interrupted)
        signal.signal(signal.SIGTERM, interrupted)
        while not stop:
            if any(p.poll() is not None for p in processes):
                self.stderr.write("a process of the console exited; stopping the others")
                break
            time.sleep(0.5)

    @staticmethod
    def _stop(processes: list[subprocess.Popen]) -> None:
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
