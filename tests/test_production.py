"""Production mode: `check --deploy`, the CSP header, /healthz and the structured logs."""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import django_rq
import pytest
from cryptography.fernet import Fernet
from django.test import Client
from rq import Worker

from camsconsole.logs import JsonFormatter, redact

ROOT = Path(__file__).resolve().parent.parent


def test_it_passes_the_deployment_checklist() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CAMS_"))}
    env |= {
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": Fernet.generate_key().decode() * 2,
        "DJANGO_ALLOWED_HOSTS": "console.example.com",
        "CAMS_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_it_sends_a_strict_content_security_policy(admin_client: Client) -> None:
    policy = admin_client.get("/").headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"] == "'self'"
    assert "unsafe-inline" not in directives["script-src"]
    assert directives["object-src"] == "'none'"


@pytest.fixture
def live_worker(db: None) -> Any:
    """A worker registered in Redis the way `rqworker` registers itself."""
    worker = Worker([django_rq.get_queue("default")], connection=django_rq.get_connection())
    worker.register_birth()
    yield worker
    worker.register_death()


def test_it_reports_healthy_with_a_worker(live_worker: Any) -> None:
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "redis": "ok", "workers": "ok"}


def test_it_reports_unhealthy_without_workers(db: None) -> None:
    for worker in Worker.all(connection=django_rq.get_connection()):
        worker.register_death()
    response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json()["workers"] == "none"


def test_it_reports_redis_down(db: None, settings: Any) -> None:
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json()["redis"] == "down"


def test_it_logs_one_json_line_per_request_with_its_id(
    viewer_client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="camsconsole.request"):
        response = viewer_client.get("/accounts/", HTTP_X_REQUEST_ID="req-42")
    assert response["X-Request-ID"] == "req-42"
    [record] = [r for r in caplog.records if r.name == "camsconsole.request"]
    line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == "req-42"
    assert line["path"] == "/accounts/"
    assert line["status"] == 200
    assert line["user"] == "victor-viewer"


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Not Found: /hooks/cams/AbCdEf123_-xyz/", "AbCdEf123_-xyz"),
        ("Authorization: ACS3-HMAC-SHA256 Credential=x,Signature=0a1b2c3d4e", "0a1b2c3d4e"),
        ('{"AccessKeySecret": "hunter2secret"}', "hunter2secret"),
        ("password=letmein123", "letmein123"),
    ],
)
def test_it_masks_secrets_in_log_lines(text: str, secret: str) -> None:
    assert secret not in redact(text)
    record = logging.LogRecord("x", logging.WARNING, __file__, 1, text, None, None)
    assert secret not in JsonFormatter().format(record)
