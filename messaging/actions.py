"""Every change operators make to messages and the suppression list, each with its audit event in
the same transaction. Dispatch jobs are enqueued once that transaction has committed."""

import logging
from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone
from redis.exceptions import RedisError

from camsconsole.audit import Actor, record, snapshot
from camsconsole.models import Sender
from messaging import queues
from messaging.models import Message, State, Suppression

logger = logging.getLogger(__name__)


class Refused(Exception):
    """The action is not allowed in the object's current state; the message says why."""


def _dispatch_on_commit(ids: Sequence[int]) -> None:
    """Ring the dispatcher after commit. With Redis down the message stays pending and the
    sweeper rings for it later, so the operator's send still succeeds."""

    def ring() -> None:
        try:
            queues.enqueue_dispatch("messaging.jobs.send", list(ids))
        except RedisError:
            logger.warning("dispatch of %s not enqueued; the sweeper will ring", list(ids))

    transaction.on_commit(ring)


def _audit_values(message: Message) -> dict[str, Any]:
    return snapshot(message) | {"parameters": message.api_params()}


@transaction.atomic
def send(actor: Actor, message: Message) -> Message:
    """Queue a composed (unsaved) message for sending."""
    user = actor.user if actor.user is not None and actor.user.is_authenticated else None
    message.created_by = user
    message.state = State.PENDING
    message.created_at = message.enqueued_at = timezone.now()
    message.save()
    record(actor, "message.send", message, after=_audit_values(message))
    _dispatch_on_commit([message.pk])
    return message


RESENDABLE = (State.UNKNOWN,)


@transaction.atomic
def resend(actor: Actor, message: Message) -> Message:
    """Send again a message whose outcome is unknown, as a new message with a new TaskId.

    The original stays as it is (its receipts may still come); the operator has confirmed that
    the recipient may get it twice.
    """
    original = Message.objects.select_for_update().get(pk=message.pk)
    if original.state not in RESENDABLE:
        raise Refused(
            f"Only a message whose outcome is unknown can be resent; this one is "
            f"{original.get_state_display().lower()}."
        )
    earlier = original.resends.first()
    if earlier is not None:
        raise Refused(f"This message was already resent as message #{earlier.pk}.")
    copy = Message(
        channel_id=original.channel_id,
        sender_id=original.sender_id,
        to=original.to,
        kind=original.kind,
        message_type=original.message_type,
        variant_id=original.variant_id,
        template_code=original.template_code,
        template_name=original.template_name,
        language=original.language,
        template_params=original.template_params,
        payload=original.payload,
        content=original.content,
        options=original.options,
        resend_of=original,
    )
    user = actor.user if actor.user is not None and actor.user.is_authenticated else None
    copy.created_by = user
    copy.created_at = copy.enqueued_at = timezone.now()
    copy.save()
    record(
        actor,
        "message.resend",
        copy,
        before={"resend_of": original.pk, "state": original.state, "task_id": original.task_id},
        after=_audit_values(copy),
    )
    _dispatch_on_commit([copy.pk])
    return copy


@transaction.atomic
def suppress(actor: Actor, sender: Sender, user: str, reason: str) -> Suppression:
    """Put a user on a sender's suppression list (or make a lifted entry active again)."""
    entry = (
        Suppression.objects.select_for_update()
        .filter(channel_id=sender.channel_id, business_number=sender.sender_id, user=user)
        .first()
    )
    before = snapshot(entry) if entry is not None else None
    if entry is None:
        entry = Suppression(
            channel_id=sender.channel_id, business_number=sender.sender_id, user=user
        )
    entry.active = True
    entry.source = Suppression.Source.OPERATOR
    entry.reason = reason
    entry.changed_at = timezone.now()
    entry.save()
    record(actor, "suppression.add", entry, before=before, after=snapshot(entry))
    return entry


@transaction.atomic
def lift(actor: Actor, entry: Suppression) -> None:
    """Let the user get messages from that number again."""
    locked = Suppression.objects.select_for_update().get(pk=entry.pk)
    if not locked.active:
        return
    before = snapshot(locked)
    locked.active = False
    locked.source = Suppression.Source.OPERATOR
    locked.changed_at = timezone.now()
    locked.save(update_fields=["active", "source", "changed_at"])
    record(actor, "suppression.lift", locked, before=before, after=snapshot(locked))
