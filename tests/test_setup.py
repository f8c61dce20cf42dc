"""The demo data, the settings' loud failures and the embedded Redis."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import redis
from django.contrib.auth import get_user_model
from django.core.management import call_command

from camsconsole.cams import rules
from camsconsole.embedded_redis import embedded_redis
from camsconsole.models import Account, Channel, Sender

ROOT = Path(__file__).resolve().parent.parent


def test_it_loads_the_demo_data_idempotently(db: None) -> None:
    call_command("load_demo")
    call_command("load_demo")
    account = Account.objects.get(name="Sandbox")
    assert account.access_key_secret  # decryptable
    assert sorted(Channel.objects.values_list("channel_type", flat=True)) == [
        "instagram",
        "messenger",
        "viber",
        "whatsapp",
    ]
    assert Sender.objects.count() == 4
    for sender in Sender.objects.select_related("channel"):
        assert rules.check_sender_id(sender.channel.channel_type, sender.sender_id) is None
    admin = get_user_model().objects.get(username="admin")
    assert admin.check_password("cams-demo-admin")
    assert admin.is_staff


def run_settings(**env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CAMS_"))}
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, os; os.environ['DJANGO_SETTINGS_MODULE']="
            "'camsconsole.settings'; django.setup()",
        ],
        cwd=ROOT,
        env=clean | env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DJANGO_DEBUG": "maybe"}, "DJANGO_DEBUG has a bad value"),
        ({"DJANGO_DEBUG": "0"}, "DJANGO_SECRET_KEY must be set"),
        ({"DJANGO_DEBUG": "1", "CAMS_ENCRYPTION_KEYS": "not-a-key"}, "not a Fernet key"),
        ({"DJANGO_DEBUG": "1", "DATABASE_URL": "nosuchdb://x"}, "DATABASE_URL has a bad value"),
        ({"DJANGO_DEBUG": "1", "AXES_FAILURE_LIMIT": "many"}, "AXES_FAILURE_LIMIT has a bad value"),
        (
            {
                "DJANGO_DEBUG": "0",
                "DJANGO_SECRET_KEY": "x" * 50,
                "DJANGO_ALLOWED_HOSTS": "a.example",
            },
            "CAMS_ENCRYPTION_KEYS must be set",
        ),
    ],
)
def test_it_fails_loudly_on_bad_settings(env: dict[str, str], message: str) -> None:
    result = run_settings(**env)
    assert result.returncode != 0
    assert message in result.stderr


def test_it_starts_with_good_production_settings() -> None:
    from cryptography.fernet import Fernet

    result = run_settings(
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="k" * 50,
        DJANGO_ALLOWED_HOSTS="console.example",
        CAMS_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
    )
    assert result.returncode == 0, result.stderr


def test_it_runs_an_embedded_redis() -> None:
    with embedded_redis(6399) as url:
        client = redis.Redis.from_url(url)
        assert client.ping()
        client.set("k", "v")
        assert client.get("k") == b"v"
    with pytest.raises(redis.ConnectionError):
        redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()
