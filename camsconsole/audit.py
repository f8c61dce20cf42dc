"""Writing the audit history. Callers are action functions, inside their own transaction."""

import datetime
import decimal
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import models
from django.http import HttpRequest

from camsconsole.models import AuditEvent


@dataclass(frozen=True)
class Actor:
    """Who did it and from where; built once per request and handed to every action."""

    user: Any = None
    ip: str | None = None

    @classmethod
    def from_request(cls, request: HttpRequest) -> "Actor":
        return cls(user=request.user, ip=client_ip(request))

    @property
    def label(self) -> str:
        if self.user is None or not self.user.is_authenticated:
            return "system"
        return str(self.user.get_username())


SYSTEM = Actor()


def client_ip(request: HttpRequest) -> str | None:
    if settings.USE_X_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip() or None
    return request.META.get("REMOTE_ADDR") or None


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime.datetime | datetime.date | uuid.UUID | decimal.Decimal):
        return str(value)
    return value


def snapshot(obj: models.Model, fields: tuple[str, ...] | None = None) -> dict[str, Any]:
    """The audited values of an object: only the fields its model lists in AUDIT_FIELDS, which
    is how credentials stay out of the history."""
    names = fields if fields is not None else type(obj).AUDIT_FIELDS  # type: ignore[attr-defined]
    return {name: _jsonable(getattr(obj, name)) for name in names}


def record(
    actor: Actor,
    verb: str,
    obj: models.Model | None = None,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    object_type: str = "",
    object_id: str = "",
    object_label: str = "",
) -> AuditEvent:
    if obj is not None:
        object_type = object_type or obj._meta.model_name or ""
        object_id = object_id or str(obj.pk)
        object_label = object_label or str(obj)
    user = actor.user if actor.user is not None and actor.user.is_authenticated else None
    return AuditEvent.objects.create(
        actor=user,
        actor_label=actor.label,
        ip=actor.ip,
        verb=verb,
        object_type=object_type,
        object_id=object_id,
        object_label=object_label[:200],
        before=before,
        after=after,
    )
