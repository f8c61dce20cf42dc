"""`make run`'s process supervisor, for real: embedded Redis, sandbox, worker and gunicorn start
together on their own ports and database, serve the demo login, and stop together on Ctrl-C."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_for(url: str, timeout: float = 60) -> requests.Response:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return requests.get(url, timeout=5)
        except (requests.ConnectionError, requests.Timeout):  # still booting
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@pytest.fixture
def console_env(tmp_path: Path) -> dict[str, str]:
    ports = {name: free_port() for name in ("web", "redis", "sandbox")}
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DATABASE_URL"}}
    env |= {
        "DJANGO_DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'console.sqlite3'}",
        "EMBEDDED_REDIS_PORT": str(ports["redis"]),
        "CAMS_ENDPOINT": f"http://127.0.0.1:{ports['sandbox']}",
        "CONSOLE_BIND": f"127.0.0.1:{ports['web']}",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{ports['web']}",
    }
    env |= {f"PORT_{name.upper()}": str(port) for name, port in ports.items()}
    manage = [sys.executable, "manage.py"]
    for command in (["migrate", "--noinput"], ["load_demo"]):
        subprocess.run([*manage, *command], cwd=ROOT, env=env, check=True, capture_output=True)
    return env


def test_it_runs_the_whole_console_and_stops_it_on_ctrl_c(console_env: dict[str, str]) -> None:
    web, redis_port, sandbox = (int(console_env[f"PORT_{n}"]) for n in ("WEB", "REDIS", "SANDBOX"))
    process = subprocess.Popen(
        [sys.executable, "manage.py", "run_console"],
        cwd=ROOT,
        env=console_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{web}"
        assert wait_for(f"{base}/login/").status_code == 200
        session = requests.Session()
        login = session.get(f"{base}/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.text)
        assert token
        response = session.post(
            f"{base}/login/",
            data={
                "username": "admin",
                "password": "cams-demo-admin",
                "csrfmiddlewaretoken": token.group(1),
            },
            headers={"Referer": f"{base}/login/"},
        )
        assert response.status_code == 200
        assert "Log out" in response.text
        accounts = session.get(f"{base}/accounts/")
        assert "Sandbox" in accounts.text
        assert f"127.0.0.1:{sandbox}" in accounts.text
        assert wait_for(f"http://127.0.0.1:{sandbox}/_sandbox/ledger").status_code == 200
        assert listening(redis_port)
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    time.sleep(0.5)
    assert not any(listening(port) for port in (web, redis_port, sandbox)), output
