"""Roles: three Django groups in rising order. Every view states the least role it needs.

`admin` manages accounts, credentials and users; `operator` templates, sends and campaigns;
`viewer` reads. A higher role can do everything a lower one can.
"""

from collections.abc import Callable
from enum import IntEnum
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.http.response import HttpResponseBase


class Role(IntEnum):
    VIEWER = 1
    OPERATOR = 2
    ADMIN = 3

    @property
    def group_name(self) -> str:
        return self.name.lower()

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(role.group_name, role.name.title()) for role in cls]

    @classmethod
    def from_name(cls, name: str) -> "Role":
        return cls[name.upper()]


def granted_role(user: Any) -> Role | None:
    """The highest role among the user's groups, whether or not the user is active."""
    if user.is_superuser:
        return Role.ADMIN
    names = set(user.groups.values_list("name", flat=True))
    return max((role for role in Role if role.group_name in names), default=None)


def role_of(user: Any) -> Role | None:
    """The role the user acts with now, or None (a user with no group can see nothing)."""
    if not user.is_authenticated or not user.is_active:
        return None
    # Cached on the user object: templates and views ask several times per request.
    if not hasattr(user, "_cams_role"):
        user._cams_role = granted_role(user)
    return user._cams_role


def has_role(user: Any, role: Role) -> bool:
    held = role_of(user)
    return held is not None and held >= role


ViewFunc = Callable[..., HttpResponseBase]


def require_role(role: Role) -> Callable[[ViewFunc], ViewFunc]:
    """Login first (anonymous users are sent to the login page), then at least `role` (or 403)."""

    def decorator(view: ViewFunc) -> ViewFunc:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not has_role(request.user, role):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        guarded = login_required(wrapped)
        guarded.required_role = role  # type: ignore[attr-defined]
        return guarded

    return decorator


def assign_role(user: Any, role: Role) -> None:
    """Make `role` the user's only role. Admins are also staff, because the django-rq dashboard
    admits staff only; the Django admin site asks has_role(ADMIN) itself (camsconsole.urls)."""
    from django.contrib.auth.models import Group

    user.groups.set([Group.objects.get(name=role.group_name)])
    if user.is_staff != (role == Role.ADMIN):
        user.is_staff = role == Role.ADMIN
        user.save(update_fields=["is_staff"])
    if hasattr(user, "_cams_role"):
        del user._cams_role


def role_context(request: HttpRequest) -> dict[str, Any]:
    role = role_of(request.user)
    return {
        "role": role,
        "is_admin": role is not None and role >= Role.ADMIN,
        "is_operator": role is not None and role >= Role.OPERATOR,
    }


ADMIN_SITE_APPS = ("camsconsole", "templates_app", "messaging", "auth")


def grant_admin_site_permissions(**kwargs: Any) -> None:
    """The Django admin is read-only here and for admins only: give their group the view
    permissions it checks (after every migrate, so new models are covered)."""
    from django.contrib.auth.models import Group, Permission

    group, _ = Group.objects.get_or_create(name=Role.ADMIN.group_name)
    views = Permission.objects.filter(
        content_type__app_label__in=ADMIN_SITE_APPS, codename__startswith="view_"
    )
    group.permissions.add(*views)
