"""Who must not get messages: the suppression list every send path honours.

Viber reports `unsubscribe` when a user blocks the business and `subscribe` when they unblock it
(reference §6.3); operators add and lift entries too (actions.py). Entries are per channel and
business number. Events are ordered by their own time: the latest one about a (number, user)
decides, whatever order the receipts arrive in.
"""

import datetime
from collections.abc import Iterable
from typing import Any

from django.db import transaction

from camsconsole.audit import SYSTEM, record, snapshot
from camsconsole.models import Channel, Sender
from messaging.models import Suppression

UNSUBSCRIBE = "unsubscribe"
SUBSCRIBE = "subscribe"


def is_suppressed(sender: Sender, user: str) -> bool:
    return Suppression.objects.filter(
        channel_id=sender.channel_id, business_number=sender.sender_id, user=user, active=True
    ).exists()


def suppressed_among(sender: Sender, users: Iterable[str]) -> set[str]:
    """Which of `users` are suppressed for this sender (one query; for mass sends)."""
    return set(
        Suppression.objects.filter(
            channel_id=sender.channel_id,
            business_number=sender.sender_id,
            user__in=list(users),
            active=True,
        ).values_list("user", flat=True)
    )


def apply_events(channel: Channel, events: list[tuple[str, str, str, datetime.datetime]]) -> int:
    """Fold (business number, user, subscribe|unsubscribe, time) events in; how many changed.

    Each change is recorded in the audit history as the system's doing.
    """
    changed = 0
    for business_number, user, status, moment in sorted(events, key=lambda event: event[3]):
        with transaction.atomic():
            changed += _apply(channel, business_number, user, status == UNSUBSCRIBE, moment)
    return changed


def _apply(
    channel: Channel, business_number: str, user: str, active: bool, moment: datetime.datetime
) -> int:
    entry = (
        Suppression.objects.select_for_update()
        .filter(channel=channel, business_number=business_number, user=user)
        .first()
    )
    before: dict[str, Any] | None = None
    if entry is None:
        if not active:
            return 0  # a subscribe for someone never suppressed: nothing to lift
        entry = Suppression(channel=channel, business_number=business_number, user=user)
    else:
        if entry.changed_at > moment or entry.active == active:
            return 0  # older than what decided the entry, or a duplicate
        before = snapshot(entry)
    entry.active = active
    entry.source = Suppression.Source.RECEIPT
    entry.reason = "Viber: the user blocked the business" if active else "Viber: unblocked"
    entry.changed_at = moment
    entry.save()
    verb = "suppression.add" if active else "suppression.lift"
    record(SYSTEM, verb, entry, before=before, after=snapshot(entry))
    return 1
