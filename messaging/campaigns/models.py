"""Campaigns: one approved template sent to a CSV's worth of recipients.

A campaign's recipients live in their own table, `Recipient`, with the outbound state machine of
DESIGN.md ("Sending"; the `State` values and ranks of messaging.models), rather than as rows of
`Message`. Measured on the benchmark machine, a million `Message` rows take 40-60 s to insert
(nine indexes, five foreign keys) and each 1,000-row state change ~45 ms, because every index
holds a state-dependent predicate and so no update is HOT: more than the whole budget of a
45-second import and of a 10,000-recipients-a-second dispatch. `Recipient` carries two indexes,
the primary key and the unique (campaign, To), and no index on anything that changes, so state
changes are HOT updates (the table keeps free space in each page for them: fillfactor 70).

What would need an index elsewhere lives in small tables instead:

- `CampaignChunk`: a contiguous id range of a campaign's recipients, claimed by one worker at a
  time (SELECT ... FOR UPDATE SKIP LOCKED, with a lease). One chunk is one mass call's worth.
- `CampaignCall`: every CAMS call, with the TaskId committed before it is made. Receipts of
  campaign messages are matched by (TaskId, To): TaskId -> CampaignCall -> campaign, then
  (campaign, To).
- `CampaignCount`: per-state (and per-error-code) counters, kept by database triggers on
  `Recipient`, so the campaign page never counts recipients (see counters.py).
- `CampaignSecond`: accepted and refused recipients per second, for the send-rate chart.
"""

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from camsconsole.models import Channel, Sender
from messaging.models import State

MASS_BATCH_MIN, MASS_BATCH_MAX = 100, 1000


class Campaign(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        IMPORTING = "importing", "Importing recipients"
        READY = "ready", "Ready"
        SCHEDULED = "scheduled", "Scheduled"
        RUNNING = "running", "Running"
        PAUSED = "paused", "Paused"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"
        FAILED = "failed", "Failed"

    class Mode(models.TextChoices):
        MASS = "mass", "Mass: SendChatappMassMessage, many recipients a call"
        SINGLE = "single", "Single: SendChatappMessage, one recipient a call"

    name = models.CharField(max_length=200)
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="campaigns")
    sender = models.ForeignKey(Sender, on_delete=models.PROTECT, related_name="campaigns")
    variant = models.ForeignKey(
        "templates_app.Variant",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="campaigns",
    )
    # As sent: copied from the variant when the campaign is saved and again at launch.
    template_code = models.CharField("TemplateCode", max_length=64, blank=True)
    template_name = models.CharField(max_length=512, blank=True)
    language = models.CharField(max_length=16, blank=True)
    mode = models.CharField(max_length=8, choices=Mode.choices, default=Mode.MASS)
    batch_size = models.PositiveSmallIntegerField(default=MASS_BATCH_MAX)
    # Per-call options by their API names: FallBackId, FallBackContent, FallBackDuration,
    # FallBackRule, and Viber's Label, Ttl, Tag.
    options = models.JSONField(default=dict, blank=True)
    scheduled_at = models.DateTimeField(null=True, blank=True)
    schedule_timezone = models.CharField(max_length=64, blank=True)

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    # Bumped by every launch, resume and retry; dispatch jobs of an older run stop.
    run = models.PositiveIntegerField(default=0)
    recipients = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    launched_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # When dispatch jobs were last enqueued; the sweeper rings again for a stalled campaign.
    kicked_at = models.DateTimeField(null=True, blank=True)

    AUDIT_FIELDS: ClassVar = (
        "name",
        "channel_id",
        "sender_id",
        "variant_id",
        "template_code",
        "language",
        "mode",
        "batch_size",
        "options",
        "scheduled_at",
        "schedule_timezone",
        "status",
        "run",
    )

    class Meta:
        ordering = ("-id",)
        indexes = [
            models.Index(
                fields=["status"],
                condition=Q(status__in=["scheduled", "running", "importing"]),
                name="campaign_active",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("campaign-detail", args=[self.pk])

    @property
    def is_mass(self) -> bool:
        return self.mode == self.Mode.MASS

    @property
    def operation(self) -> str:
        return "SendChatappMassMessage" if self.is_mass else "SendChatappMessage"

    @property
    def chunk_size(self) -> int:
        return self.batch_size if self.is_mass else settings.CAMPAIGN_SINGLE_CHUNK


class CampaignImport(models.Model):
    """One uploaded recipient file and its import into a campaign."""

    class State(models.TextChoices):
        UPLOADED = "uploaded", "Waiting for the column mapping"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Importing"
        DONE = "done", "Imported"
        FAILED = "failed", "Failed"
        REPLACED = "replaced", "Replaced by a newer file"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="imports")
    state = models.CharField(max_length=16, choices=State.choices, default=State.UPLOADED)
    file_name = models.CharField(max_length=255)
    # Relative to settings.CAMPAIGN_UPLOAD_DIR.
    path = models.CharField(max_length=255)
    size = models.BigIntegerField(default=0)
    encoding = models.CharField(max_length=32, blank=True)
    encoding_label = models.CharField(max_length=64, blank=True)
    delimiter = models.CharField(max_length=2, blank=True)
    columns = models.JSONField(default=list, blank=True)
    samples = models.JSONField(default=list, blank=True)
    # {"recipient": i, "variables": {"1": i, ...}, "payload": [i, ...], "default_region": "SG"}
    mapping = models.JSONField(default=dict, blank=True)
    rows_read = models.PositiveIntegerField(default=0)
    valid = models.PositiveIntegerField(default=0)
    invalid = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    suppressed = models.PositiveIntegerField(default=0)
    imported = models.PositiveIntegerField(default=0)
    # The rows left out, with why (relative to CAMPAIGN_UPLOAD_DIR).
    report_path = models.CharField(max_length=255, blank=True)
    error = models.TextField(blank=True)
    # Each run of the import job takes a new token; only its holder may write progress or finish,
    # so a job the sweeper restarted and a slow original can never both load their rows.
    token = models.CharField(max_length=32, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    # Moves with the progress; an import that stops moving is restarted by the sweeper.
    updated_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    AUDIT_FIELDS: ClassVar = ("file_name", "size", "state", "mapping")

    class Meta:
        ordering = ("-id",)

    def __str__(self) -> str:
        return self.file_name

    @property
    def finished(self) -> bool:
        return self.state in (self.State.DONE, self.State.FAILED, self.State.REPLACED)

    @property
    def left_out(self) -> int:
        return self.invalid + self.duplicates + self.suppressed


class CampaignCall(models.Model):
    """One CAMS call made for a campaign: a mass call for a chunk, or one single send."""

    class State(models.TextChoices):
        SENDING = "sending", "Sending"
        ACCEPTED = "accepted", "Accepted"
        RETRY = "retry", "Refused for now; retried"
        UNKNOWN = "unknown", "Outcome unknown"
        FAILED = "failed", "Refused"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="calls")
    chunk = models.ForeignKey(
        "CampaignChunk",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    task_id = models.CharField("TaskId", max_length=64, unique=True)
    recipients = models.PositiveIntegerField(default=0)
    # The id range of its recipients (recipients have no index on their call).
    first_id = models.BigIntegerField(null=True, blank=True)
    last_id = models.BigIntegerField(null=True, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.SENDING)
    started_at = models.DateTimeField(default=timezone.now)
    # A sending call belongs to its worker until then; the sweeper calls its outcome unknown after.
    lease_until = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    group_message_id = models.CharField("GroupMessageId", max_length=64, blank=True)
    message_id = models.CharField("MessageId", max_length=64, blank=True)
    request_id = models.CharField("RequestId", max_length=64, blank=True)
    error_code = models.CharField(max_length=100, blank=True)
    error_message = models.TextField(blank=True)
    reconcile_attempts = models.PositiveSmallIntegerField(default=0)
    reconciled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("id",)
        indexes = [
            models.Index(
                fields=["lease_until"], condition=Q(state="sending"), name="campaign_call_sending"
            ),
            models.Index(
                fields=["campaign", "id"],
                condition=Q(state="unknown"),
                name="campaign_call_unknown",
            ),
        ]

    def __str__(self) -> str:
        return f"TaskId {self.task_id}"


class CampaignChunk(models.Model):
    """A contiguous id range of one campaign's recipients, claimed by one worker at a time."""

    class State(models.TextChoices):
        PENDING = "pending", "Waiting"
        CLAIMED = "claimed", "Claimed by a worker"
        DONE = "done", "Done"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="chunks")
    first_id = models.BigIntegerField()
    last_id = models.BigIntegerField()
    size = models.PositiveIntegerField()
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    # A retry after throttling waits until then.
    not_before = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    # Who holds the claim; outcomes are written only by the holder.
    claim = models.CharField(max_length=32, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ("id",)
        indexes = [
            models.Index(
                fields=["campaign", "id"], condition=Q(state="pending"), name="chunk_pending"
            ),
            models.Index(
                fields=["lease_until"], condition=Q(state="claimed"), name="chunk_claimed"
            ),
        ]

    def __str__(self) -> str:
        return f"chunk {self.first_id}-{self.last_id} of campaign {self.campaign_id}"


class Recipient(models.Model):
    """One recipient of a campaign, and what became of its message."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="recipient_set", db_index=False
    )
    to = models.CharField("To", max_length=32)
    row = models.PositiveIntegerField(default=0)  # in the uploaded file
    params = models.JSONField("TemplateParams", default=dict, blank=True)
    payload = models.JSONField("Payload", default=list, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    # The call that carries (or carried) it; no constraint, so a state change checks nothing.
    call = models.ForeignKey(
        CampaignCall,
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    task_id = models.CharField("TaskId", max_length=64, blank=True)
    message_id = models.CharField("MessageId", max_length=64, blank=True)
    error_code = models.CharField(max_length=100, blank=True)
    error_message = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    sending_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    unknown_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "to"], name="recipient_unique_to")
        ]
        indexes = [
            # The recipients table filtered to the few an operator looks into: the unique index
            # would walk past every sent and read one to find them. Partial, so sending (which
            # moves every row through pending, sending and accepted) does not maintain it.
            models.Index(
                fields=["campaign", "to"],
                condition=Q(state__in=[State.FAILED, State.UNKNOWN, State.SUPPRESSED]),
                name="recipient_to_left_behind",
            )
        ]

    def __str__(self) -> str:
        return self.to


class CampaignCount(models.Model):
    """Recipients of a campaign per state (and per error code for failed, unknown and suppressed
    ones). Written only by the triggers of counters.py; each database session adds to its own
    shard rows, so concurrent workers never wait on one another's counters."""

    campaign_id = models.BigIntegerField()
    state = models.CharField(max_length=16)
    code = models.CharField(max_length=100, blank=True)
    shard = models.IntegerField(default=0)
    n = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign_id", "state", "code", "shard"], name="campaign_count_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} {self.state} {self.code}: {self.n}"


class CampaignSecond(models.Model):
    """Outcomes of a campaign's calls in one second (Unix time), for the send-rate chart."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    second = models.BigIntegerField()
    accepted = models.PositiveIntegerField(default=0)
    refused = models.PositiveIntegerField(default=0)
    calls = models.PositiveIntegerField(default=0)
    throttled = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "second"], name="campaign_second")
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} @{self.second}"
