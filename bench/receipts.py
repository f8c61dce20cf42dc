"""How fast receipts are folded in, end to end, on PostgreSQL.

Makes a fresh PostgreSQL database, migrates it, and puts MESSAGES accepted messages in it; starts
the console's web server (gunicorn, as deployed) and one RQ worker on the `receipts` queue, with
an embedded Redis; then posts ChatAppStatus receipts for those messages (Sent, Delivered and Read
of each, at least 200,000 in all) to the channel's webhook in pushes of 100, from a few
keep-alive connections at once, as CAMS pushes them. It measures

- receipts applied per second, end to end: from the first push until every message has reached
  Read and every push is folded in;
- the webhook's acknowledgement latency (p50, p99, max), as the pushing client sees it;

and, beside them, a naive baseline: the same kind of receipts applied one by one with an ORM read
and save per event (on separate messages, in this process). The last line is
`receipts_applied_per_s: N`. Target on a 2-core machine: N >= 5,000 with p99 <= 100 ms.

    .venv/bin/python bench/receipts.py [--database-url postgres://postgres@127.0.0.1:5432/]
        [--messages 66667] [--connections 4] [--web-workers 1] [--web-threads 4]
        [--baseline 3000]

It runs in about a minute and gives up after --timeout seconds of waiting.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BATCH = 100
STATUSES = ("Sent", "Delivered", "Read")
DATABASE = "cams_bench_receipts"
SENDER = "6580001111"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.1)
    raise SystemExit(f"nothing listens on port {port} after {timeout} s")


def fresh_database(server_url: str) -> str:
    """Drop and create the bench database on the server; its URL."""
    import psycopg

    parts = urllib.parse.urlsplit(server_url)
    admin = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DATABASE}"')
    return urllib.parse.urlunsplit(parts._replace(path=f"/{DATABASE}"))


def environment(database_url: str, redis_url: str) -> dict[str, str]:
    from cryptography.fernet import Fernet

    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        # As deployed: DEBUG off (no query log, no debug pages).
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "bench-" + uuid.uuid4().hex,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        # Plain HTTP on loopback (in production a TLS proxy sits in front).
        "DJANGO_HTTPS": "0",
        "CAMS_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "PYTHONUNBUFFERED": "1",
    }


def setup_django(env: dict[str, str]) -> None:
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "camsconsole.settings")
    import django

    django.setup()


def make_messages(count: int, prefix: str) -> tuple[Any, list[tuple[str, str]]]:
    """`count` accepted messages from one sender; the channel and their (MessageId, TaskId)."""
    from django.db import connection
    from django.utils import timezone

    from camsconsole.models import Account, Channel, ChannelType, Sender
    from messaging.models import Message

    account, _ = Account.objects.get_or_create(
        name="Bench", defaults={"endpoint": "http://127.0.0.1:1", "access_key_id": "LTAI-bench"}
    )
    if not account.access_key_secret_encrypted:
        account.set_secret("bench-secret")
        account.save()
    channel, _ = Channel.objects.get_or_create(
        account=account, channel_type=ChannelType.WHATSAPP, cust_space_id="bench", name="Bench"
    )
    sender, _ = Sender.objects.get_or_create(
        channel=channel, sender_id=SENDER, defaults={"display_name": "Bench"}
    )
    ids = [(f"{prefix}{n:012d}", str(uuid.uuid4())) for n in range(count)]
    now = timezone.now()
    columns = (
        'channel_id, sender_id, "to", kind, message_type, template_code, template_name, '
        "language, template_params, payload, options, state, task_id, message_id, "
        "group_message_id, request_id, error_code, error_message, attempts, reconcile_attempts, "
        "created_at, accepted_at"
    )
    table = Message._meta.db_table
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
    ):
        for n, (message_id, task_id) in enumerate(ids):
            copy.write_row(
                (
                    channel.pk,
                    sender.pk,
                    f"659{n:08d}",
                    "template",
                    "",
                    "744c4b5c79c9432497a075bdfca3a1b2",
                    "order_update",
                    "en",
                    "{}",
                    "[]",
                    "{}",
                    "accepted",
                    task_id,
                    message_id,
                    "",
                    "",
                    "",
                    "",
                    1,
                    0,
                    now,
                    now,
                )
            )
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {table}")
    return channel, ids


def receipt(message_id: str, task_id: str, n: int, status: str, when: int) -> dict[str, Any]:
    return {
        "MessageId": message_id,
        "TaskId": task_id,
        "From": SENDER,
        "To": f"659{n:08d}",
        "Timestamp": when,
        "Status": status,
        "MsgFrameType": "template",
        "Type": "TEMPLATE",
        "OriginPhoneNumber": SENDER,
        "ConversationType": "utility",
        "ConversationId": "9a1f3e5b7c2d4e60",
        "TemplateCode": "744c4b5c79c9432497a075bdfca3a1b2",
        "TemplateName": "order_update",
        "Language": "en",
    }


def pushes(ids: list[tuple[str, str]], seed: int = 7) -> list[bytes]:
    """JSON bodies of 100 receipts each: every status of every message, the statuses of one
    message spread over nearby pushes and in no particular order, as CAMS delivers them."""
    rng = random.Random(seed)
    base = int(time.time() * 1000)
    events = [
        receipt(message_id, task_id, n, status, base + n + step * 1000)
        for n, (message_id, task_id) in enumerate(ids)
        for step, status in enumerate(STATUSES)
    ]
    window = 3000  # shuffle within windows, so out-of-order arrivals are common but local
    for start in range(0, len(events), window):
        part = events[start : start + window]
        rng.shuffle(part)
        events[start : start + window] = part
    return [
        json.dumps(events[start : start + BATCH], separators=(",", ":")).encode()
        for start in range(0, len(events), BATCH)
    ]


def post_all(port: int, path: str, bodies: list[bytes], connections: int) -> list[float]:
    """POST every body over `connections` keep-alive connections; each request's latency (s)."""
    latencies: list[float] = []
    lock = threading.Lock()
    cursor = iter(range(len(bodies)))
    failures: list[str] = []

    def run() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        while True:
            with lock:
                index = next(cursor, None)
            if index is None:
                break
            body = bodies[index]
            started = time.perf_counter()
            conn.request(
                "POST", path, body=body, headers={"Content-Type": "application/json;charset=utf-8"}
            )
            response = conn.getresponse()
            answer = response.read()
            mine.append(time.perf_counter() - started)
            if response.status != 200 or json.loads(answer).get("code") != 0:
                failures.append(f"{response.status} {answer[:200]!r}")
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=run) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise SystemExit(f"{len(failures)} pushes were refused, e.g. {failures[0]}")
    return latencies


def applied(channel_id: int, total_messages: int) -> tuple[int, int]:
    """(messages at Read, batches waiting) right now."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM messaging_message WHERE channel_id = %s AND state = 'read'",
            [channel_id],
        )
        read = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM messaging_receiptbatch WHERE processed_at IS NULL")
        waiting = cursor.fetchone()[0]
    return read, waiting


def naive_baseline(ids: list[tuple[str, str]]) -> float:
    """One ORM read and save per event: the obvious way, for scale. Events/s."""
    from django.db import transaction

    from messaging.models import RANKS, STATE_OF_RANK, Message, StatusEvent
    from messaging.receipts import STATUS_RANKS

    events = json.loads(b"[" + b",".join(body[1:-1] for body in pushes(ids, seed=8)) + b"]")
    started = time.perf_counter()
    for event in events:
        with transaction.atomic():
            message = Message.objects.get(message_id=event["MessageId"])
            rank = STATUS_RANKS[event["Status"].lower()]
            StatusEvent.objects.get_or_create(
                cams_message_id=event["MessageId"],
                status=rank,
                defaults={"channel_id": message.channel_id, "message": message},
            )
            if rank > RANKS[message.state]:
                message.state = STATE_OF_RANK[rank]
                message.save()
    return len(events) / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/"),
        help="a PostgreSQL server; the bench makes its own database there",
    )
    parser.add_argument("--messages", type=int, default=66_667, help="3 receipts each")
    parser.add_argument("--connections", type=int, default=4, help="pushes in flight at once")
    # One gunicorn process with threads: the webhook mostly waits for its commit, and on two
    # cores a second process only competes with the worker and PostgreSQL for CPU.
    parser.add_argument("--web-workers", type=int, default=1)
    parser.add_argument("--web-threads", type=int, default=4)
    parser.add_argument("--baseline", type=int, default=3_000, help="messages for the baseline")
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args()

    from camsconsole.embedded_redis import embedded_redis

    total_events = args.messages * len(STATUSES)
    print(
        f"bench/receipts.py: {total_events:,} ChatAppStatus receipts in pushes of {BATCH}; "
        f"gunicorn {args.web_workers} process(es) x {args.web_threads} threads, one RQ worker "
        f"on `receipts`, PostgreSQL, {os.cpu_count()} CPUs"
    )
    database_url = fresh_database(args.database_url)
    processes: list[subprocess.Popen[bytes]] = []
    with embedded_redis(free_port()) as redis_url:
        env = environment(database_url, redis_url)
        manage = [sys.executable, str(ROOT / "manage.py")]
        subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], env=env, check=True)
        setup_django(env)
        channel, ids = make_messages(args.messages, "bench")
        _, baseline_ids = make_messages(args.baseline, "naive")
        bodies = pushes(ids)
        port = free_port()
        log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - open for the processes' lifetime
            prefix="bench-receipts-", suffix=".log", delete=False
        )
        try:
            processes.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "gunicorn",
                        "camsconsole.wsgi",
                        "--bind",
                        f"127.0.0.1:{port}",
                        "--workers",
                        str(args.web_workers),
                        "--threads",
                        str(args.web_threads),
                        "--log-level",
                        "warning",
                    ],
                    env=env,
                    cwd=ROOT,
                    stdout=log,
                    stderr=log,
                )
            )
            processes.append(
                subprocess.Popen(
                    [*manage, "rqworker", "receipts"], env=env, cwd=ROOT, stdout=log, stderr=log
                )
            )
            wait_for_port(port)
            path = f"/hooks/cams/{channel.hook_token}/"
            # Warm up the web workers and the database connection pool.
            post_all(port, path, [b"[]"] * 20, args.connections)

            started = time.perf_counter()
            latencies = post_all(port, path, bodies, args.connections)
            posted = time.perf_counter() - started
            deadline = time.monotonic() + args.timeout
            read = waiting = 0
            while time.monotonic() < deadline:
                read, waiting = applied(channel.pk, args.messages)
                if read == args.messages and waiting == 0:
                    break
                time.sleep(0.05)
            elapsed = time.perf_counter() - started
            if read != args.messages or waiting:
                print(f"gave up: {read:,} of {args.messages:,} messages at Read, {waiting} waiting")
                print(f"server and worker logs: {log.name}")
                return 1
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
            log.close()
        naive = naive_baseline(baseline_ids)

    rate = total_events / elapsed
    latencies.sort()
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    print(
        f"pushed {len(bodies):,} batches in {posted:.1f} s over {args.connections} connections; "
        f"all applied after {elapsed:.1f} s"
    )
    print(f"receipts applied end to end: {rate:,.0f} events/s (target >= 5,000)")
    print(
        f"acknowledgement latency: p50 {p50:.1f} ms, p99 {p99:.1f} ms, "
        f"max {latencies[-1] * 1000:.1f} ms (target p99 <= 100 ms)"
    )
    print(f"naive baseline (one ORM read and save per event): {naive:,.0f} events/s")
    print(f"set-based / naive: {rate / naive:.1f}x")
    print(f"receipts_applied_per_s: {rate:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
