"""Reading the audit history: filtering and keyset pagination (no OFFSET, so deep pages stay
as fast as the first)."""

import datetime
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from camsconsole.models import AuditEvent

PAGE_SIZE = 50


def filtered(data: dict[str, Any]) -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.all()
    if data.get("actor"):
        events = events.filter(actor_label__iexact=data["actor"])
    if data.get("verb"):
        events = events.filter(verb__startswith=data["verb"])
    if data.get("object_type"):
        events = events.filter(object_type=data["object_type"])
    if data.get("object_id"):
        events = events.filter(object_id=data["object_id"])
    tz = timezone.get_current_timezone()
    if data.get("date_from"):
        start = datetime.datetime.combine(data["date_from"], datetime.time.min, tz)
        events = events.filter(created_at__gte=start)
    if data.get("date_to"):
        end = datetime.datetime.combine(
            data["date_to"] + datetime.timedelta(days=1), datetime.time.min, tz
        )
        events = events.filter(created_at__lt=end)
    return events


def for_object(obj: Any, limit: int = 20) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(object_type=obj._meta.model_name, object_id=str(obj.pk))[:limit]
    )


@dataclass
class Page:
    events: list[AuditEvent]
    next_before: int | None


def page(events: QuerySet[AuditEvent], before: int | None, size: int = PAGE_SIZE) -> Page:
    """Events newest first with an id below `before`; ids only grow, so they order the history."""
    if before is not None:
        events = events.filter(id__lt=before)
    rows = list(events.order_by("-id")[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return Page(rows, rows[-1].id if more else None)
