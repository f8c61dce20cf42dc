"""Personas and shared fixtures. Every test talks to the real database and Redis configured by
DATABASE_URL / REDIS_URL (make test starts an embedded Redis when none is configured)."""

from pathlib import Path
from typing import Any

import django_rq
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

from camsconsole.models import Account, Channel, ChannelType, Sender
from camsconsole.roles import Role, assign_role

PASSWORD = "correct-horse-battery-staple"

# WhiteNoise warns at every request when the collectstatic target does not exist yet.
Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)


@pytest.fixture(autouse=True)
def _fast_test_settings(settings: Any) -> None:
    """Pages render without collectstatic; passwords hash quickly."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def make_user(username: str, role: Role | None) -> Any:
    user = get_user_model().objects.create_user(username=username, password=PASSWORD)
    if role is not None:
        assign_role(user, role)
    return user


@pytest.fixture
def admin_user(db: None) -> Any:
    return make_user("alice-admin", Role.ADMIN)


@pytest.fixture
def operator_user(db: None) -> Any:
    return make_user("oscar-operator", Role.OPERATOR)


@pytest.fixture
def viewer_user(db: None) -> Any:
    return make_user("victor-viewer", Role.VIEWER)


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def admin_client(admin_user: Any) -> Client:
    return client_for(admin_user)


@pytest.fixture
def operator_client(operator_user: Any) -> Client:
    return client_for(operator_user)


@pytest.fixture
def viewer_client(viewer_user: Any) -> Client:
    return client_for(viewer_user)


@pytest.fixture
def account(db: None) -> Account:
    account = Account(name="Main", endpoint="http://127.0.0.1:1", access_key_id="LTAI-test-id")
    account.set_secret("s3cret-value-WXYZ")
    account.save()
    return account


@pytest.fixture
def channel(account: Account) -> Channel:
    return Channel.objects.create(
        account=account, channel_type=ChannelType.WHATSAPP, cust_space_id="space-1", name="WA"
    )


@pytest.fixture
def sender(channel: Channel) -> Sender:
    return Sender.objects.create(channel=channel, sender_id="6580001111", display_name="Shop")


@pytest.fixture
def queue() -> Any:
    """The default RQ queue on the real Redis, emptied before and after the test."""
    q = django_rq.get_queue("default")
    q.empty()
    yield q
    q.empty()
