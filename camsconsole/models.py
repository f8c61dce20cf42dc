"""Accounts, channels and senders (what CAMS knows us by), and the append-only audit history."""

import secrets
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.urls import reverse

from camsconsole import crypto
from camsconsole.cams.limits import DOCUMENTED_QPS

DEFAULT_ENDPOINT = "https://cams.ap-southeast-1.aliyuncs.com"
RECEIPT_HOOK_PATH = "/hooks/cams/{token}/"


def default_qps_limits() -> dict[str, int]:
    return dict(DOCUMENTED_QPS)


class Account(models.Model):
    """An Alibaba Cloud account (AccessKey pair) that CAMS bills and rate-limits as one."""

    name = models.CharField(max_length=100, unique=True)
    endpoint = models.URLField(default=DEFAULT_ENDPOINT)
    access_key_id = models.CharField("AccessKey ID", max_length=64)
    # Fernet token (camsconsole.crypto); never rendered, never audited.
    access_key_secret_encrypted = models.TextField(editable=False)
    access_key_secret_last4 = models.CharField(max_length=4, editable=False)
    qps_limits = models.JSONField(default=default_qps_limits)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Outcome of the last "test connection" job.
    checked_at = models.DateTimeField(null=True, blank=True, editable=False)
    check_ok = models.BooleanField(null=True, editable=False)
    check_message = models.CharField(max_length=500, blank=True, editable=False)

    AUDIT_FIELDS: ClassVar = ("name", "endpoint", "access_key_id", "qps_limits", "is_active")

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("account-detail", args=[self.pk])

    def set_secret(self, secret: str) -> None:
        self.access_key_secret_encrypted = crypto.encrypt(secret)
        self.access_key_secret_last4 = secret[-4:]

    @property
    def access_key_secret(self) -> str:
        return crypto.decrypt(self.access_key_secret_encrypted)

    @property
    def masked_secret(self) -> str:
        return f"••••{self.access_key_secret_last4}" if self.access_key_secret_last4 else "not set"

    def qps(self, operation: str) -> int:
        return int(self.qps_limits.get(operation, DOCUMENTED_QPS[operation]))

    def client(self) -> Any:
        from camsconsole.cams.client import CamsClient

        return CamsClient(
            access_key_id=self.access_key_id,
            access_key_secret=self.access_key_secret,
            endpoint=self.endpoint,
            timeout=settings.CAMS_TIMEOUT,
        )


class ChannelType(models.TextChoices):
    WHATSAPP = "whatsapp", "WhatsApp"
    VIBER = "viber", "Viber"
    MESSENGER = "messenger", "Messenger"
    INSTAGRAM = "instagram", "Instagram"


def new_hook_token() -> str:
    return secrets.token_urlsafe(32)


class Channel(models.Model):
    """One CAMS channel (CustSpaceId) of one ChannelType, with its receipt-hook tokens.

    Two tokens so that a rotation never drops receipts: the new token becomes `hook_token`, the
    old one stays valid as `hook_token_previous` until the next rotation.
    """

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="channels")
    channel_type = models.CharField(max_length=16, choices=ChannelType.choices)
    cust_space_id = models.CharField("CustSpaceId", max_length=64)
    name = models.CharField(max_length=100)
    hook_token = models.CharField(max_length=64, unique=True, default=new_hook_token)
    hook_token_previous = models.CharField(max_length=64, blank=True, default="")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    AUDIT_FIELDS: ClassVar = ("account_id", "channel_type", "cust_space_id", "name", "is_active")

    class Meta:
        ordering = ("name",)
        constraints = [
            models.UniqueConstraint(
                fields=["account", "channel_type", "cust_space_id"], name="unique_channel_space"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_channel_type_display()})"

    def get_absolute_url(self) -> str:
        return reverse("channel-detail", args=[self.pk])

    @property
    def callback_url(self) -> str:
        return settings.PUBLIC_BASE_URL + RECEIPT_HOOK_PATH.format(token=self.hook_token)


class Sender(models.Model):
    """A business identity messages go out from: the `From` of CAMS sends."""

    class Status(models.TextChoices):
        CONNECTED = "connected", "Connected"
        PENDING = "pending", "Pending"
        FLAGGED = "flagged", "Flagged"
        RESTRICTED = "restricted", "Restricted"
        DISCONNECTED = "disconnected", "Disconnected"

    class Quality(models.TextChoices):
        GREEN = "GREEN", "High (green)"
        YELLOW = "YELLOW", "Medium (yellow)"
        RED = "RED", "Low (red)"
        UNKNOWN = "UNKNOWN", "Unknown"

    class Tier(models.TextChoices):
        TIER_250 = "TIER_250", "250 users / 24 h"
        TIER_1K = "TIER_1K", "1,000 users / 24 h"
        TIER_10K = "TIER_10K", "10,000 users / 24 h"
        TIER_100K = "TIER_100K", "100,000 users / 24 h"
        UNLIMITED = "TIER_UNLIMITED", "Unlimited"
        UNKNOWN = "", "Unknown"

    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="senders")
    sender_id = models.CharField("From", max_length=64)
    display_name = models.CharField(max_length=100)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CONNECTED)
    quality_rating = models.CharField(
        max_length=8, choices=Quality.choices, default=Quality.UNKNOWN
    )
    messaging_tier = models.CharField(max_length=16, choices=Tier.choices, blank=True, default="")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    AUDIT_FIELDS: ClassVar = (
        "channel_id",
        "sender_id",
        "display_name",
        "status",
        "quality_rating",
        "messaging_tier",
        "is_active",
    )

    class Meta:
        ordering = ("display_name",)
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "sender_id"], name="unique_sender_per_channel"
            )
        ]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.sender_id})"

    def get_absolute_url(self) -> str:
        return reverse("sender-detail", args=[self.pk])


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> int:
        raise TypeError("audit events are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError("audit events are append-only")


class AuditEvent(models.Model):
    """One thing someone did. Append-only: written by action functions in the transaction of the
    change itself (camsconsole.audit.record), never updated or deleted (a database trigger refuses
    it too on PostgreSQL)."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        # No cascade and no constraint: the history outlives the users it names.
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    # Kept as text so the history still reads right after a user is renamed.
    actor_label = models.CharField(max_length=150, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    verb = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_label = models.CharField(max_length=200, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ("-id",)
        indexes = [models.Index(fields=["object_type", "object_id", "-id"], name="audit_object")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.verb}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise TypeError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise TypeError("audit events are append-only")

    @property
    def changes(self) -> list[tuple[str, Any, Any]]:
        """(field, before, after) for every field whose value differs."""
        before, after = self.before or {}, self.after or {}
        keys = list(dict.fromkeys([*before, *after]))
        return [(k, before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)]
