"""Message templates: a template per channel and name, one variant per language, every saved
edit kept as a version, and the CAMS jobs run on their behalf."""

from datetime import timedelta
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from camsconsole.models import Channel, ChannelType

# A CAMS TemplateType per channel type that has templates (reference §3.4).
TEMPLATE_TYPES: dict[str, str] = {ChannelType.WHATSAPP: "WHATSAPP", ChannelType.VIBER: "VIBER"}


class Category(models.TextChoices):
    MARKETING = "MARKETING", "Marketing"
    UTILITY = "UTILITY", "Utility"
    AUTHENTICATION = "AUTHENTICATION", "Authentication"


class Template(models.Model):
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="templates")
    name = models.CharField(max_length=512)
    category = models.CharField(max_length=16, choices=Category.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    AUDIT_FIELDS: ClassVar = ("channel_id", "name", "category")

    class Meta:
        ordering = ("name",)
        constraints = [
            models.UniqueConstraint(fields=["channel", "name"], name="unique_template_name")
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("template-detail", args=[self.pk])

    @property
    def template_type(self) -> str:
        return TEMPLATE_TYPES[self.channel.channel_type]

    @property
    def is_submitted(self) -> bool:
        """Once CAMS knows the template, its name and channel are fixed (Modify has no Name)."""
        return self.variants.exclude(template_code="").exists()


class Status(models.TextChoices):
    """Review status; the last five are CAMS's AuditStatus values (reference §6.5), and CAMS's
    `unaudit` (accepted, not yet in review) is `submitted`."""

    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    AUDITING = "auditing", "In review"
    PASS = "pass", "Approved"
    FAIL = "fail", "Rejected"
    DISABLED = "disabled", "Disabled"
    PAUSED = "paused", "Paused"


AUDIT_STATUSES = {
    "unaudit": Status.SUBMITTED,
    "auditing": Status.AUDITING,
    "pass": Status.PASS,
    "fail": Status.FAIL,
    "disabled": Status.DISABLED,
    "paused": Status.PAUSED,
}
IN_REVIEW = (Status.SUBMITTED, Status.AUDITING)
# CAMS lets a template be changed only before review or after a rejection (reference §3.5).
MODIFIABLE = (Status.SUBMITTED, Status.FAIL)


class Quality(models.TextChoices):
    GREEN = "GREEN", "High"
    YELLOW = "YELLOW", "Medium"
    RED = "RED", "Low"
    UNKNOWN = "UNKNOWN", "Unknown"


class VariantQuerySet(models.QuerySet["Variant"]):
    def usable(self) -> "VariantQuerySet":
        """What can be sent right now: approved, not held back by CAMS, on a live channel."""
        return self.filter(
            Q(allow_send__isnull=True) | Q(allow_send=True),
            status=Status.PASS,
            template__channel__is_active=True,
            template__channel__account__is_active=True,
        )


class Variant(models.Model):
    """One language of a template: what is designed, submitted and reviewed."""

    template = models.ForeignKey(Template, on_delete=models.CASCADE, related_name="variants")
    language = models.CharField(max_length=16)
    # The CAMS Components array, in the API's own shape (reference §4.5).
    components = models.JSONField(default=list)
    # Sample values for review, keyed "1", "2", ... like the variables.
    example = models.JSONField(default=dict)
    message_send_ttl_seconds = models.PositiveIntegerField(null=True, blank=True)
    template_code = models.CharField("TemplateCode", max_length=64, blank=True, db_index=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    reason = models.TextField(blank=True)
    quality_score = models.CharField(max_length=8, choices=Quality.choices, default=Quality.UNKNOWN)
    # CAMS's AllowSend (marketing templates only); None when CAMS did not say.
    allow_send = models.BooleanField(null=True, blank=True)
    version = models.PositiveIntegerField(default=0)
    submitted_version = models.PositiveIntegerField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = VariantQuerySet.as_manager()

    class Meta:
        ordering = ("template__name", "language")
        constraints = [
            models.UniqueConstraint(fields=["template", "language"], name="unique_variant")
        ]

    def __str__(self) -> str:
        return f"{self.template.name} [{self.language}]"

    def get_absolute_url(self) -> str:
        return f"{self.template.get_absolute_url()}?language={self.language}"

    @property
    def has_unsubmitted_changes(self) -> bool:
        return self.version != self.submitted_version

    @property
    def in_review(self) -> bool:
        return self.status in IN_REVIEW and bool(self.template_code)

    def audit_values(self) -> dict[str, Any]:
        """What the history shows of a variant, before and after a change."""
        return {
            "name": self.template.name,
            "language": self.language,
            "category": self.template.category,
            "components": self.components,
            "example": self.example,
            "message_send_ttl_seconds": self.message_send_ttl_seconds,
            "status": self.status,
            "template_code": self.template_code,
        }


class Version(models.Model):
    """A saved state of a variant; numbers grow by one per saved change."""

    class Source(models.TextChoices):
        EDIT = "edit", "Edited"
        IMPORT = "import", "Imported from CAMS"
        DUPLICATE = "duplicate", "Duplicated"
        TRANSLATE = "translate", "Copied from another language"

    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    category = models.CharField(max_length=16, choices=Category.choices)
    components = models.JSONField(default=list)
    example = models.JSONField(default=dict)
    message_send_ttl_seconds = models.PositiveIntegerField(null=True, blank=True)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.EDIT)
    actor_label = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-number",)
        constraints = [
            models.UniqueConstraint(fields=["variant", "number"], name="unique_version_number")
        ]

    def __str__(self) -> str:
        return f"{self.variant} v{self.number}"


# A job that has not finished after this long is taken for lost (a worker died) and no longer
# blocks the next one.
JOB_STALE_AFTER = timedelta(minutes=15)


class JobQuerySet(models.QuerySet["TemplateJob"]):
    def active(self) -> "JobQuerySet":
        return self.filter(
            state__in=(TemplateJob.State.QUEUED, TemplateJob.State.RUNNING),
            created_at__gte=timezone.now() - JOB_STALE_AFTER,
        )


class TemplateJob(models.Model):
    """One CAMS operation run by a worker for an operator, with its progress and outcome."""

    class Kind(models.TextChoices):
        SUBMIT = "submit", "Submit for review"
        REFRESH = "refresh", "Refresh from CAMS"
        DELETE_LANGUAGE = "delete_language", "Delete language"
        DELETE_TEMPLATE = "delete_template", "Delete template"
        IMPORT = "import", "Import from CAMS"

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Done"
        FAILED = "failed", "Failed"
        # The request may have reached CAMS (timeout, 5xx): nothing is retried blindly.
        UNKNOWN = "unknown", "Outcome unknown"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED)
    channel = models.ForeignKey(
        Channel, on_delete=models.CASCADE, related_name="template_jobs", null=True, blank=True
    )
    template = models.ForeignKey(
        Template, on_delete=models.SET_NULL, related_name="jobs", null=True, blank=True
    )
    variant = models.ForeignKey(
        Variant, on_delete=models.SET_NULL, related_name="jobs", null=True, blank=True
    )
    # The version a submission sends, fixed when the operator pressed Submit.
    version = models.PositiveIntegerField(null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    label = models.CharField(max_length=200, blank=True)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(null=True, blank=True)
    error_code = models.CharField(max_length=100, blank=True)
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = JobQuerySet.as_manager()

    class Meta:
        ordering = ("-id",)

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.label}"

    @property
    def finished(self) -> bool:
        return self.state not in (self.State.QUEUED, self.State.RUNNING)
