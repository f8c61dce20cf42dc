"""The 24-hour customer-service window (reference §4.1).

WhatsApp takes a free-form message (`Type` message) only within 24 hours of the user's last
message to that business number; templates go at any time. Every ChatAppInbound opens or extends
the window (receipts.py keeps `Conversation.last_inbound_at`). Viber is exempt (the 2024 seed), and
Messenger and Instagram apply Meta's own policy, which CAMS does not document: the console shows
their windows but refuses only WhatsApp.

A message is refused not only once the window has closed but also when it would close before
the message can be expected to go out (MARGIN), and the dispatcher checks again just before the
call, since a queued message may wait for a retry.
"""

from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.formats import date_format

from camsconsole.models import Sender
from messaging.models import SERVICE_WINDOW, Conversation, Kind

WINDOW_CHANNELS = frozenset({"whatsapp"})
MARGIN = timedelta(minutes=1)


def conversation(sender: Sender, user: str) -> Conversation | None:
    return Conversation.objects.filter(
        channel_id=sender.channel_id, business_number=sender.sender_id, user=user
    ).first()


def closes_at(sender: Sender, user: str) -> datetime | None:
    found = conversation(sender, user)
    return found.last_inbound_at + SERVICE_WINDOW if found is not None else None


def applies(channel_type: str, kind: str) -> bool:
    return kind == Kind.MESSAGE and channel_type in WINDOW_CHANNELS


def refusal(sender: Sender, user: str, kind: str, now: datetime | None = None) -> str | None:
    """Why a message of this kind may not go to `user` now, or None if it may."""
    channel_type = sender.channel.channel_type
    if not applies(channel_type, kind):
        return None
    now = now or timezone.now()
    closes = closes_at(sender, user)
    if closes is None:
        return (
            "This user has not written to this number, so the 24-hour customer-service window "
            "is closed: only a template can be sent."
        )
    when = date_format(timezone.localtime(closes), "Y-m-d H:i")
    if closes <= now:
        return (
            f"The 24-hour customer-service window closed at {when}: only a template can be "
            "sent until the user writes again."
        )
    if closes - now < MARGIN:
        return (
            f"The 24-hour customer-service window closes at {when}, too soon for the message "
            "to be sure to go out in time: send a template instead."
        )
    return None
