"""Accounts, channels and senders through their pages: encryption, write-only secrets, audit."""

from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.test import Client
from django.urls import reverse

from camsconsole import crypto
from camsconsole.cams.limits import DOCUMENTED_QPS
from camsconsole.models import Account, AuditEvent, Channel, Sender

SECRET = "AbCdEfGhIjKlMnOpQrStUvWxYz012345"


def account_post(**overrides: Any) -> dict[str, Any]:
    data = {
        "name": "Acme",
        "endpoint": "http://127.0.0.1:8900",
        "access_key_id": "LTAI5tAcmeKey",
        "access_key_secret": SECRET,
        **{f"qps_{op}": qps for op, qps in DOCUMENTED_QPS.items()},
    }
    return data | overrides


def test_it_creates_an_account_with_the_secret_encrypted(admin_client: Client) -> None:
    response = admin_client.post(reverse("account-create"), account_post())
    assert response.status_code == 302
    account = Account.objects.get(name="Acme")
    assert SECRET not in account.access_key_secret_encrypted
    assert account.access_key_secret == SECRET
    assert account.access_key_secret_last4 == "2345"
    assert account.qps("SendChatappMessage") == 250
    assert account.qps("SendChatappMassMessage") == 10


def test_it_never_renders_the_secret_back(admin_client: Client, account: Account) -> None:
    for name in ("account-edit", "account-detail"):
        page = admin_client.get(reverse(name, args=[account.pk])).content.decode()
        assert "s3cret-value-WXYZ" not in page
        assert account.access_key_secret_encrypted not in page
        assert "••••WXYZ" in page
    assert "s3cret" not in admin_client.get(reverse("account-list")).content.decode()


def test_it_keeps_the_secret_when_an_edit_leaves_it_blank(
    admin_client: Client, account: Account
) -> None:
    data = account_post(name="Main", access_key_secret="", qps_SendChatappMessage=120)
    assert admin_client.post(reverse("account-edit", args=[account.pk]), data).status_code == 302
    account.refresh_from_db()
    assert account.access_key_secret == "s3cret-value-WXYZ"
    assert account.qps("SendChatappMessage") == 120


def test_it_requires_a_secret_for_a_new_account(admin_client: Client) -> None:
    response = admin_client.post(reverse("account-create"), account_post(access_key_secret=""))
    assert response.status_code == 400
    assert "This field is required" in response.content.decode()
    assert not Account.objects.exists()


def test_it_shows_field_errors_for_bad_limits(admin_client: Client) -> None:
    response = admin_client.post(reverse("account-create"), account_post(qps_SendChatappMessage=0))
    assert response.status_code == 400
    assert "greater than or equal to 1" in response.content.decode()
    assert not Account.objects.exists()


def test_it_audits_account_changes_without_credentials(admin_client: Client) -> None:
    admin_client.post(reverse("account-create"), account_post())
    account = Account.objects.get()
    admin_client.post(
        reverse("account-edit", args=[account.pk]),
        account_post(name="Acme 2", access_key_secret="NewSecretValue9999"),
    )
    events = list(AuditEvent.objects.filter(object_type="account").order_by("id"))
    assert [e.verb for e in events] == ["account.create", "account.edit"]
    assert events[1].before["name"] == "Acme"
    assert events[1].after["name"] == "Acme 2"
    assert events[1].actor_label == "alice-admin"
    assert events[1].ip == "127.0.0.1"
    assert events[1].after["access_key_secret"] == "changed"
    for event in events:
        text = str(event.before) + str(event.after)
        assert SECRET not in text
        assert "NewSecretValue9999" not in text
        assert "9999" not in text
        assert "2345" not in text
        assert account.access_key_secret_encrypted not in text


def test_it_decrypts_with_an_old_key_and_rotates_to_the_new(
    settings: Any, account: Account
) -> None:
    old = settings.ENCRYPTION_KEYS[0]
    new = Fernet.generate_key().decode()
    settings.ENCRYPTION_KEYS = [new, old]
    assert account.access_key_secret == "s3cret-value-WXYZ"
    from django.core.management import call_command

    call_command("rotate_encryption_key")
    account.refresh_from_db()
    settings.ENCRYPTION_KEYS = [new]
    assert account.access_key_secret == "s3cret-value-WXYZ"
    settings.ENCRYPTION_KEYS = [old]
    with pytest.raises(ValueError, match="cannot be decrypted"):
        crypto.decrypt(account.access_key_secret_encrypted)


def test_it_disables_and_enables_without_deleting(admin_client: Client, sender: Sender) -> None:
    channel = sender.channel
    response = admin_client.post(reverse("channel-active", args=[channel.pk]), {"active": "0"})
    assert response.status_code == 302
    channel.refresh_from_db()
    assert not channel.is_active
    admin_client.post(reverse("channel-active", args=[channel.pk]), {"active": "1"})
    channel.refresh_from_db()
    assert channel.is_active
    verbs = list(AuditEvent.objects.filter(object_type="channel").values_list("verb", flat=True))
    assert sorted(verbs) == ["channel.disable", "channel.enable"]


def test_it_offers_only_active_accounts_for_new_channels(
    admin_client: Client, account: Account
) -> None:
    Account.objects.filter(pk=account.pk).update(is_active=False)
    data = {"account": account.pk, "channel_type": "viber", "cust_space_id": "s", "name": "V"}
    response = admin_client.post(reverse("channel-create"), data)
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()


def test_it_rotates_the_hook_token_keeping_the_previous(
    admin_client: Client, channel: Channel
) -> None:
    first = channel.hook_token
    admin_client.post(reverse("channel-rotate", args=[channel.pk]))
    channel.refresh_from_db()
    assert channel.hook_token != first
    assert channel.hook_token_previous == first
    event = AuditEvent.objects.get(verb="channel.rotate_token")
    assert first not in str(event.before) + str(event.after)
    assert channel.callback_url.endswith(f"/hooks/cams/{channel.hook_token}/")


def test_it_shows_the_callback_url_to_admins_only(
    admin_client: Client, viewer_client: Client, channel: Channel
) -> None:
    url = reverse("channel-detail", args=[channel.pk])
    assert channel.hook_token in admin_client.get(url).content.decode()
    assert channel.hook_token not in viewer_client.get(url).content.decode()


@pytest.mark.parametrize(
    ("channel_type", "good", "bad"),
    [
        ("whatsapp", "6591234567", "+65 9123 4567"),
        ("messenger", "102030405060708", "my page"),
    ],
)
def test_it_validates_the_sender_id_per_channel_type(
    admin_client: Client, account: Account, channel_type: str, good: str, bad: str
) -> None:
    channel = Channel.objects.create(
        account=account, channel_type=channel_type, cust_space_id="x", name=channel_type
    )
    data = {
        "channel": channel.pk,
        "display_name": "S",
        "status": "connected",
        "quality_rating": "UNKNOWN",
        "messaging_tier": "",
    }
    response = admin_client.post(reverse("sender-create"), data | {"sender_id": bad})
    assert response.status_code == 400
    assert 'id="error_1_id_sender_id"' in response.content.decode()
    assert (
        admin_client.post(reverse("sender-create"), data | {"sender_id": good}).status_code == 302
    )
    assert Sender.objects.get(channel=channel).sender_id == good


def test_it_shows_an_objects_own_history(admin_client: Client, account: Account) -> None:
    admin_client.post(
        reverse("account-edit", args=[account.pk]),
        account_post(name="Renamed", access_key_secret=""),
    )
    page = admin_client.get(reverse("account-detail", args=[account.pk])).content.decode()
    assert "account.edit" in page
    assert "Renamed" in page
