"""Logins, failed logins and logouts go into the audit history."""

from typing import Any

from django.contrib.auth import signals
from django.dispatch import receiver
from django.http import HttpRequest

from camsconsole.audit import Actor, client_ip, record


@receiver(signals.user_logged_in)
def _logged_in(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    record(Actor(user, client_ip(request)), "auth.login", user)


@receiver(signals.user_logged_out)
def _logged_out(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    if user is not None:
        record(Actor(user, client_ip(request)), "auth.logout", user)


@receiver(signals.user_login_failed)
def _login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    # Only the username the visitor typed; Django has already masked the password out.
    username = str(credentials.get("username", ""))[:150]
    ip = client_ip(request) if request is not None else None
    record(Actor(None, ip), "auth.login_failed", object_type="user", object_label=username)
