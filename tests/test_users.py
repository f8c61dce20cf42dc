from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from camsconsole.models import AuditEvent
from camsconsole.roles import Role, granted_role


def test_it_creates_a_user_with_a_role(admin_client: Client) -> None:
    data = {"username": "nina", "email": "", "role": "operator", "password": "a-long-pass-phrase-1"}
    assert admin_client.post(reverse("user-create"), data).status_code == 302
    user = get_user_model().objects.get(username="nina")
    assert granted_role(user) == Role.OPERATOR
    assert not user.is_staff
    event = AuditEvent.objects.get(verb="user.create")
    assert event.after["role"] == "operator"
    assert event.after["password"] == "changed"
    assert "a-long-pass-phrase-1" not in str(event.after)


def test_it_refuses_a_weak_password(admin_client: Client) -> None:
    data = {"username": "nina", "email": "", "role": "viewer", "password": "123"}
    response = admin_client.post(reverse("user-create"), data)
    assert response.status_code == 400
    assert "too short" in response.content.decode()
    assert not get_user_model().objects.filter(username="nina").exists()


def test_it_changes_a_role_and_records_before_and_after(
    admin_client: Client, viewer_user: Any
) -> None:
    data = {"username": viewer_user.username, "email": "", "role": "admin", "password": ""}
    admin_client.post(reverse("user-edit", args=[viewer_user.pk]), data)
    viewer_user.refresh_from_db()
    assert granted_role(viewer_user) == Role.ADMIN
    assert viewer_user.is_staff
    event = AuditEvent.objects.get(verb="user.edit")
    assert (event.before["role"], event.after["role"]) == ("viewer", "admin")


def test_it_disables_a_user_who_then_cannot_log_in(admin_client: Client, viewer_user: Any) -> None:
    admin_client.post(reverse("user-active", args=[viewer_user.pk]), {"active": "0"})
    viewer_user.refresh_from_db()
    assert not viewer_user.is_active
    from tests.conftest import PASSWORD

    response = Client().post(
        reverse("login"), {"username": viewer_user.username, "password": PASSWORD}
    )
    assert response.status_code == 200  # the form again, not a redirect into the console
    assert AuditEvent.objects.filter(verb="user.disable").exists()


def test_it_will_not_let_an_admin_disable_themself(admin_client: Client, admin_user: Any) -> None:
    admin_client.post(reverse("user-active", args=[admin_user.pk]), {"active": "0"})
    admin_user.refresh_from_db()
    assert admin_user.is_active


def test_it_creates_a_user_from_the_command_line(db: None, monkeypatch: Any) -> None:
    monkeypatch.setenv("NEW_PASSWORD", "another-long-pass-phrase")
    call_command("create_user", "carol", "--role", "viewer", "--password-env", "NEW_PASSWORD")
    user = get_user_model().objects.get(username="carol")
    assert granted_role(user) == Role.VIEWER
    assert user.check_password("another-long-pass-phrase")
    with pytest.raises(CommandError, match="username"):
        call_command("create_user", "carol", "--role", "viewer", "--password-env", "NEW_PASSWORD")
