"""Outbound messages and what CAMS tells us about them: receipts, inbound messages, the 24-hour
windows they open, and the suppression list.

One outbound table serves every send path. A single message from the Send Message page and a
campaign recipient are rows of `Message` with the same state machine (DESIGN.md, "Sending"); a
campaign adds a nullable foreign key to its campaign, nothing else.

    pending -> claimed(lease) -> sending(task_id) -> accepted(message_id) -> sent -> delivered
            -> read; failed (terminal, with code and reason); unknown (ambiguous error or a crash
            mid-call) until receipts or ListChatappMessage reconcile it; suppressed (the
            recipient opted out before we called CAMS; never sent).
"""

import uuid
from datetime import timedelta
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from camsconsole.models import Channel, Sender

# Meta's customer-service window: free-form WhatsApp messages only within 24 hours of the user's
# last message (reference §4.1).
SERVICE_WINDOW = timedelta(hours=24)
# Media links in inbound messages stop working after 7 days (reference §6.4).
MEDIA_LINK_LIFETIME = timedelta(days=7)


def new_task_id() -> str:
    return str(uuid.uuid4())


class State(models.TextChoices):
    PENDING = "pending", "Queued"
    CLAIMED = "claimed", "Claimed by a worker"
    SENDING = "sending", "Sending"
    ACCEPTED = "accepted", "Accepted by CAMS"
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    READ = "read", "Read"
    FAILED = "failed", "Failed"
    UNKNOWN = "unknown", "Outcome unknown"
    SUPPRESSED = "suppressed", "Not sent: recipient opted out"


# How far along a message is. Receipts only ever move a message to a higher rank, so duplicates
# and late arrivals are harmless; Failed outranks everything and is terminal (reference §6.3).
# The receipt statuses use the same numbers (receipts.STATUS_RANKS).
RANKS: dict[str, int] = {
    State.PENDING: 0,
    State.CLAIMED: 0,
    State.SENDING: 0,
    State.UNKNOWN: 0,
    State.ACCEPTED: 1,
    State.SENT: 2,
    State.DELIVERED: 3,
    State.READ: 4,
    State.FAILED: 5,
    State.SUPPRESSED: 6,
}
STATE_OF_RANK = {2: State.SENT, 3: State.DELIVERED, 4: State.READ, 5: State.FAILED}
# No receipt can change these any more.
FINAL = (State.READ, State.FAILED, State.SUPPRESSED)
# CAMS may have the message: the outcome is known or on its way.
IN_FLIGHT = (State.CLAIMED, State.SENDING)


class Kind(models.TextChoices):
    """CAMS's `Type` of a send (reference §4.1)."""

    TEMPLATE = "template", "Template"
    MESSAGE = "message", "Free-form message"


class Message(models.Model):
    """One outbound message to one recipient."""

    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="messages")
    # Indexed by msg_thread (sender, to, -id) below.
    sender = models.ForeignKey(
        Sender, on_delete=models.PROTECT, related_name="messages", db_index=False
    )
    # Campaign recipients will point at their campaign here (a nullable FK added with campaigns).
    to = models.CharField("To", max_length=64)
    kind = models.CharField("Type", max_length=8, choices=Kind.choices)
    message_type = models.CharField("MessageType", max_length=32, blank=True)
    variant = models.ForeignKey(
        "templates_app.Variant",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="messages",
        db_index=False,
    )
    # As sent: the variant may change or go away later.
    template_code = models.CharField("TemplateCode", max_length=64, blank=True)
    template_name = models.CharField(max_length=512, blank=True)
    language = models.CharField(max_length=16, blank=True)
    template_params = models.JSONField("TemplateParams", default=dict, blank=True)
    payload = models.JSONField("Payload", default=list, blank=True)
    content = models.JSONField("Content", null=True, blank=True)
    # The other SendChatappMessage parameters by their API names: ContextMessageId, FallBack*,
    # Label, Ttl, TrackingData, Tag, ProductAction, FlowAction, RecipientType.
    options = models.JSONField(default=dict, blank=True)

    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    # Our own id for the call, sent as CAMS's TaskId and echoed by every receipt. A mass call
    # shares one TaskId among its recipients; receipts then match by (task_id, to).
    task_id = models.CharField("TaskId", max_length=64, default=new_task_id)
    message_id = models.CharField("MessageId", max_length=64, blank=True)
    group_message_id = models.CharField("GroupMessageId", max_length=64, blank=True)
    request_id = models.CharField("RequestId", max_length=64, blank=True)
    # The request as sent (the AccessKey masked) and CAMS's answer to it.
    request = models.JSONField(null=True, blank=True)
    response = models.JSONField(null=True, blank=True)
    error_code = models.CharField(max_length=100, blank=True)
    error_message = models.TextField(blank=True)

    attempts = models.PositiveSmallIntegerField(default=0)
    # A retry waits until then (backoff after throttling or an unreachable CAMS).
    not_before = models.DateTimeField(null=True, blank=True)
    # A claimed or sending row belongs to its worker until then; the sweeper takes it back after.
    lease_until = models.DateTimeField(null=True, blank=True)
    # Last time a dispatch job was enqueued for it; the sweeper rings again for stale ones.
    enqueued_at = models.DateTimeField(null=True, blank=True)
    reconcile_attempts = models.PositiveSmallIntegerField(default=0)
    reconciled_at = models.DateTimeField(null=True, blank=True)
    resend_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="resends"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )

    created_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sending_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    unknown_at = models.DateTimeField(null=True, blank=True)

    AUDIT_FIELDS: ClassVar = (
        "channel_id",
        "sender_id",
        "to",
        "kind",
        "message_type",
        "template_code",
        "language",
        "task_id",
        "state",
    )

    class Meta:
        ordering = ("-id",)
        indexes = [
            models.Index(fields=["sender", "to", "-id"], name="msg_thread"),
            models.Index(fields=["to", "-id"], name="msg_to"),
            models.Index(fields=["task_id", "to"], name="msg_task_to"),
            # Partial indexes: only the few rows a worker or the sweeper looks for.
            models.Index(fields=["message_id"], condition=~Q(message_id=""), name="msg_cams_id"),
            models.Index(
                fields=["not_before", "id"], condition=Q(state="pending"), name="msg_pending"
            ),
            models.Index(
                fields=["lease_until"],
                condition=Q(state__in=["claimed", "sending"]),
                name="msg_leased",
            ),
            models.Index(fields=["id"], condition=Q(state="unknown"), name="msg_unknown"),
        ]

    def __str__(self) -> str:
        what = (self.template_name or self.template_code) if self.kind == Kind.TEMPLATE else None
        return f"{what or self.message_type or self.kind} to {self.to}"

    def get_absolute_url(self) -> str:
        return reverse("message-detail", args=[self.pk])

    @property
    def rank(self) -> int:
        return RANKS[self.state]

    @property
    def is_final(self) -> bool:
        return self.state in FINAL

    @property
    def channel_type(self) -> str:
        return self.channel.channel_type

    def api_params(self) -> dict[str, Any]:
        """SendChatappMessage parameters, TaskId included; None values are left out."""
        params: dict[str, Any] = {
            "ChannelType": self.channel.channel_type,
            "Type": self.kind,
            "From": self.sender.sender_id,
            "To": self.to,
            "TaskId": self.task_id,
            "CustSpaceId": self.channel.cust_space_id or None,
        }
        if self.kind == Kind.TEMPLATE:
            params |= {
                "TemplateCode": self.template_code,
                "Language": self.language,
                "TemplateParams": self.template_params or None,
                "Payload": self.payload or None,
            }
        else:
            params |= {"MessageType": self.message_type, "Content": self.content}
        params |= {name: value for name, value in self.options.items() if value not in ("", None)}
        return {name: value for name, value in params.items() if value is not None}


class ReceiptBatch(models.Model):
    """The inbox: one row per push to the webhook, the body as it came. The webhook stores it in
    one INSERT and answers; a job folds it in later (`processed_at`)."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+", db_index=False)
    body = models.TextField()
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    # Set when folding this batch in failed even on its own (our bug): kept, logged, not retried.
    error = models.TextField(blank=True)

    class Meta:
        ordering = ("-id",)
        indexes = [
            models.Index(
                fields=["id"], condition=Q(processed_at__isnull=True), name="receipt_unprocessed"
            ),
            models.Index(fields=["received_at"], name="receipt_received"),
        ]

    def __str__(self) -> str:
        return f"receipts #{self.pk} from {self.channel_id}"


class StatusEvent(models.Model):
    """One ChatAppStatus receipt, kept once per (MessageId, Status): duplicates are dropped.

    Kept even when no message matches yet (`message` null), and matched when it appears.
    """

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+", db_index=False)
    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, null=True, blank=True, related_name="events"
    )
    batch = models.ForeignKey(
        ReceiptBatch,
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    cams_message_id = models.CharField("MessageId", max_length=64)
    task_id = models.CharField("TaskId", max_length=64, blank=True)
    to = models.CharField("To", max_length=64, blank=True)
    status = models.PositiveSmallIntegerField()  # a rank: models.RANKS
    occurred_at = models.DateTimeField(null=True, blank=True)
    error_code = models.CharField(max_length=64, blank=True)
    error_description = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ("occurred_at", "status")
        constraints = [
            models.UniqueConstraint(fields=["cams_message_id", "status"], name="unique_status")
        ]
        indexes = [
            models.Index(
                fields=["task_id", "to"],
                condition=Q(message__isnull=True),
                name="status_unmatched",
            )
        ]

    def __str__(self) -> str:
        return f"{self.cams_message_id} {self.status_name}"

    @property
    def status_name(self) -> str:
        names = {0: "Deleted", 2: "Sent", 3: "Delivered", 4: "Read", 5: "Failed"}
        return names.get(self.status, str(self.status))


class InboundMessage(models.Model):
    """A user's message to a business number (ChatAppInbound), kept once per MessageId."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+", db_index=False)
    cams_message_id = models.CharField("MessageId", max_length=64, unique=True)
    business_number = models.CharField(max_length=64)
    user = models.CharField(max_length=64)
    display_name = models.CharField(max_length=200, blank=True)
    type = models.CharField(max_length=16)
    # TEXT: the text; REPLY: the button's label; media: the caption or file name.
    text = models.TextField(blank=True)
    payload = models.CharField("Payload", max_length=1000, blank=True)
    data = models.JSONField(null=True, blank=True)
    media_url = models.TextField(blank=True)
    media_expires_at = models.DateTimeField(null=True, blank=True)
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-occurred_at",)
        indexes = [
            models.Index(
                fields=["channel", "business_number", "user", "-occurred_at"], name="inbound_thread"
            )
        ]

    def __str__(self) -> str:
        return f"{self.type} from {self.user}"

    @property
    def media_expired(self) -> bool:
        return self.media_expires_at is not None and self.media_expires_at <= timezone.now()


class Conversation(models.Model):
    """A user who wrote to one of our numbers, and the 24-hour window their last message opened.

    Keyed by numbers rather than by Sender, so an inbound message for a number not (yet) set up
    as a sender is kept and shows up once it is.
    """

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="conversations")
    business_number = models.CharField(max_length=64)
    user = models.CharField(max_length=64)
    display_name = models.CharField(max_length=200, blank=True)
    last_inbound_at = models.DateTimeField()
    last_inbound = models.ForeignKey(
        InboundMessage, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ("-last_inbound_at",)
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "business_number", "user"], name="unique_conversation"
            )
        ]
        indexes = [
            models.Index(
                fields=["channel", "business_number", "-last_inbound_at"], name="conv_recent"
            )
        ]

    def __str__(self) -> str:
        return f"{self.display_name or self.user} ↔ {self.business_number}"

    def get_absolute_url(self) -> str:
        return reverse("conversation-detail", args=[self.pk])

    @property
    def window_closes_at(self) -> Any:
        return self.last_inbound_at + SERVICE_WINDOW

    @property
    def window_open(self) -> bool:
        return self.window_closes_at > timezone.now()


class Suppression(models.Model):
    """A user who must not get messages from one of our numbers (Viber `unsubscribe`, or an
    operator's decision). A row stays when lifted (`active` false) so late receipts can be
    ordered against it: the latest event, by its own time, wins."""

    class Source(models.TextChoices):
        RECEIPT = "receipt", "Receipt from CAMS"
        OPERATOR = "operator", "Operator"

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="suppressions")
    business_number = models.CharField(max_length=64)
    user = models.CharField(max_length=64)
    active = models.BooleanField(default=True)
    source = models.CharField(max_length=16, choices=Source.choices)
    reason = models.CharField(max_length=200, blank=True)
    changed_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    AUDIT_FIELDS: ClassVar = (
        "channel_id",
        "business_number",
        "user",
        "active",
        "source",
        "reason",
    )

    class Meta:
        ordering = ("-changed_at",)
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "business_number", "user"], name="unique_suppression"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} from {self.business_number}"


# Campaign models live in their own module; Django finds models through this one.
from messaging.campaigns.models import (  # noqa: E402, F401
    Campaign,
    CampaignCall,
    CampaignChunk,
    CampaignCount,
    CampaignImport,
    CampaignSecond,
    Recipient,
)
