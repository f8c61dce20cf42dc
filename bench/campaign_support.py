"""What the campaign benchmarks share: a fresh PostgreSQL database of their own, Django set up
on it, a throwaway Redis, and a sandbox account with an approved template.

Everything stays on loopback addresses. `BENCH_POSTGRES` names the server (default
postgres://postgres@127.0.0.1:5432); each benchmark drops and re-creates its own database there,
so none of them touches another's data or the test databases.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

POSTGRES = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
BODY = "Hello {{1}}, your order {{2}} has shipped."


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def fresh_database(name: str) -> str:
    """Drop and create database `name`; its URL."""
    import psycopg

    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [name]
        )
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{POSTGRES}/{name}"


def environment(database_url: str, redis_url: str, **extra: str) -> dict[str, str]:
    """What every process of a benchmark runs with (the console's own variables)."""
    from cryptography.fernet import Fernet

    # Production settings (no DEBUG query log), with throwaway secrets.
    return {
        **os.environ,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "bench-" + Fernet.generate_key().decode(),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "CAMS_ENCRYPTION_KEYS": os.environ.get("BENCH_ENCRYPTION_KEY")
        or Fernet.generate_key().decode(),
        "DJANGO_SETTINGS_MODULE": "camsconsole.settings",
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "WARNING"),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "PYTHONPATH": str(ROOT),
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


def setup_django(env: dict[str, str], migrate: bool = True) -> None:
    for name in (
        "DJANGO_DEBUG",
        "DJANGO_SECRET_KEY",
        "DJANGO_ALLOWED_HOSTS",
        "CAMS_ENCRYPTION_KEYS",
        "DJANGO_SETTINGS_MODULE",
        "DATABASE_URL",
        "REDIS_URL",
        "LOG_LEVEL",
    ):
        os.environ[name] = env[name]
    for name, value in env.items():
        if name.startswith(("CAMPAIGN_", "CAMS_", "MESSAGING_")):
            os.environ[name] = value
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)


@contextmanager
def throwaway_redis() -> Iterator[tuple[str, int]]:
    from camsconsole.embedded_redis import embedded_redis

    port = free_port()
    with embedded_redis(port) as url:
        yield url, port


def sandbox_process(port: int, *options: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """`manage.py cams_sandbox` in its own process (its own core, its own GIL)."""
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "cams_sandbox", "--port", str(port), *options],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the sandbox did not start")


def sandbox_ledger(port: int) -> dict[str, Any]:
    import requests

    answer = requests.get(f"http://127.0.0.1:{port}/_sandbox/ledger", timeout=60)
    answer.raise_for_status()
    result: dict[str, Any] = answer.json()
    return result


def make_campaign(endpoint: str | None, **fields: Any) -> Any:
    """Account, WhatsApp channel and sender, an approved template (created in the sandbox when
    `endpoint` is given) and a campaign on them."""
    from camsconsole.cams.sandbox import DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET
    from camsconsole.models import Account, Channel, ChannelType, Sender
    from messaging.campaigns.models import Campaign
    from templates_app.models import Status, Template, Variant

    account = Account(
        name=f"Bench {time.time_ns()}",
        endpoint=endpoint or "http://127.0.0.1:1",
        access_key_id=DEMO_ACCESS_KEY_ID,
    )
    account.set_secret(DEMO_ACCESS_KEY_SECRET)
    account.save()
    channel = Channel.objects.create(
        account=account, channel_type=ChannelType.WHATSAPP, cust_space_id="bench", name="Bench"
    )
    sender = Sender.objects.create(channel=channel, sender_id="6580001111", display_name="Shop")
    components = [{"Type": "BODY", "Text": BODY}]
    code = "bench-template"
    if endpoint:
        from camsconsole.cams.client import CamsClient

        with CamsClient(
            access_key_id=DEMO_ACCESS_KEY_ID,
            access_key_secret=DEMO_ACCESS_KEY_SECRET,
            endpoint=endpoint,
        ) as client:
            code = client.create_template(
                template_type="WHATSAPP",
                name=f"bench_{time.time_ns()}",
                language="en",
                category="UTILITY",
                components=components,
                example={"1": "Alice", "2": "ORD-1"},
            ).template_code
    template = Template.objects.create(channel=channel, name="bench", category="UTILITY")
    variant = Variant.objects.create(
        template=template,
        language="en",
        components=components,
        example={"1": "Alice", "2": "ORD-1"},
        template_code=code,
        status=Status.PASS,
    )
    values = {
        "name": "Benchmark",
        "channel": channel,
        "sender": sender,
        "variant": variant,
        "template_code": code,
        "template_name": "bench",
        "language": "en",
    }
    return Campaign.objects.create(**(values | fields))


def fill_recipients(campaign: Any, count: int, prefix: int = 6590000000) -> None:
    """`count` recipients straight in SQL (the import has a benchmark of its own), chunked."""
    from django.db import connection

    from messaging.campaigns import chunks
    from messaging.campaigns.models import Campaign

    with connection.cursor() as cursor:
        cursor.execute(
            'INSERT INTO messaging_recipient (campaign_id, "to", row, params, payload, state, '
            "task_id, message_id, error_code, error_message, attempts) "
            "SELECT %s, (%s + g)::text, g + 1, "
            "jsonb_build_object('1', 'Customer ' || g, '2', 'ORD-' || g), '[]'::jsonb, "
            "'pending', '', '', '', '', 0 FROM generate_series(1, %s) AS g",
            [campaign.pk, prefix, count],
        )
        cursor.execute("ANALYZE messaging_recipient")
    chunks.cut(campaign)
    Campaign.objects.filter(pk=campaign.pk).update(recipients=count, status=Campaign.Status.READY)
    campaign.refresh_from_db()


def peak_rss_mb() -> tuple[float, float]:
    """Peak resident memory of this process and of its largest finished child, in MB."""
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children
