"""Every state change of a campaign, each with its audit event in the same transaction.

Views call these and never save campaigns themselves. Transitions lock the campaign row first, so
two clicks (or a click and the scheduler) cannot both launch, resume or retry: the second finds
the status already moved and is refused. Each launch, resume and retry starts a new *run*;
dispatch jobs of an older run stop at their next chunk, so a campaign never runs twice at once.
"""

import logging
import shutil
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q
from django.forms import ModelForm
from django.utils import timezone

from camsconsole.audit import SYSTEM, Actor, record, snapshot
from messaging.campaigns import chunks, codes, preflight
from messaging.campaigns.imports import stored_path, upload_dir
from messaging.campaigns.models import Campaign, CampaignChunk, CampaignImport, Recipient
from messaging.csv_import import preview
from messaging.models import State

logger = logging.getLogger(__name__)

S = Campaign.Status
EDITABLE = (S.DRAFT, S.READY)
LAUNCHABLE = (S.READY, S.SCHEDULED)
CANCELLABLE = (S.READY, S.SCHEDULED, S.RUNNING, S.PAUSED, S.FAILED)
# After these an operator may send again to failed or unknown recipients.
REOPENABLE = (S.COMPLETED, S.PAUSED, S.FAILED)


class Refused(Exception):
    """The action does not apply to the campaign as it is now; the message says why."""


def _locked(campaign: Campaign) -> Campaign:
    return Campaign.objects.select_for_update().get(pk=campaign.pk)


def _copy_template(campaign: Campaign) -> None:
    variant = campaign.variant
    if variant is not None:
        campaign.template_code = variant.template_code
        campaign.template_name = variant.template.name
        campaign.language = variant.language


@transaction.atomic
def save(actor: Actor, form: ModelForm) -> Campaign:
    """Create a campaign, or edit one that has not started."""
    campaign: Campaign = form.instance
    creating = campaign._state.adding
    before = None
    if not creating:
        current = _locked(campaign)
        if current.status not in EDITABLE:
            raise Refused(f"A {current.get_status_display().lower()} campaign cannot be edited.")
        before = snapshot(current)
    else:
        campaign.created_by = actor.user if actor.user and actor.user.is_authenticated else None
    _copy_template(campaign)
    campaign = form.save()
    verb = "campaign.create" if creating else "campaign.edit"
    record(actor, verb, campaign, before=before, after=snapshot(campaign))
    return campaign


# -- recipients ---------------------------------------------------------------------------------


@transaction.atomic
def upload(actor: Actor, campaign: Campaign, uploaded: UploadedFile) -> CampaignImport:
    """Keep an uploaded file and read its header; the mapping comes next.

    Raises csv_import.UnreadableFile when the file cannot be read as CSV at all.
    """
    current = _locked(campaign)
    if current.status not in EDITABLE:
        raise Refused("Recipients can be replaced only before the campaign is launched.")
    relative = f"campaign-{campaign.pk}/{uuid.uuid4().hex}.csv"
    target = stored_path(relative)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = getattr(uploaded, "temporary_file_path", None)
    if temporary is not None:
        shutil.move(temporary(), target)
    else:
        with target.open("wb") as out:
            for piece in uploaded.chunks():
                out.write(piece)
    try:
        seen = preview(target)
    except Exception:
        target.unlink(missing_ok=True)
        raise
    imp = CampaignImport.objects.create(
        campaign=campaign,
        file_name=Path(uploaded.name or "recipients.csv").name[:255],
        path=relative,
        size=target.stat().st_size,
        encoding=seen.format.encoding,
        encoding_label=seen.format.label,
        delimiter=seen.format.delimiter,
        columns=seen.columns,
        samples=[row[: len(seen.columns) + 2] for row in seen.samples],
        created_by=actor.user if actor.user and actor.user.is_authenticated else None,
    )
    record(actor, "campaign.upload", campaign, after={"file": imp.file_name, "size": imp.size})
    return imp


@transaction.atomic
def start_import(actor: Actor, imp: CampaignImport, mapping: dict[str, Any]) -> None:
    campaign = _locked(imp.campaign)
    if campaign.status not in EDITABLE:
        raise Refused("Recipients can be replaced only before the campaign is launched.")
    locked = CampaignImport.objects.select_for_update().get(pk=imp.pk)
    if locked.state != CampaignImport.State.UPLOADED:
        raise Refused("This file has been imported already; upload it again to re-import.")
    locked.mapping = mapping
    locked.state = CampaignImport.State.QUEUED
    locked.updated_at = timezone.now()
    locked.save(update_fields=["mapping", "state", "updated_at"])
    campaign.status = S.IMPORTING
    campaign.save(update_fields=["status"])
    record(actor, "campaign.import", campaign, after={"file": locked.file_name, "mapping": mapping})
    _enqueue("messaging.campaigns.jobs.import_recipients", locked.pk, queue="default")


def requeue_import(imp: CampaignImport, now: datetime) -> None:
    """The sweeper's restart of an import whose worker died."""
    with transaction.atomic():
        updated = CampaignImport.objects.filter(pk=imp.pk, state=imp.state).update(
            state=CampaignImport.State.QUEUED,
            token="",
            attempts=imp.attempts + 1,
            updated_at=now,
        )
        if updated:
            record(SYSTEM, "campaign.import_restart", imp.campaign, after={"file": imp.file_name})
            _enqueue("messaging.campaigns.jobs.import_recipients", imp.pk, queue="default")


# -- running ------------------------------------------------------------------------------------


def _enqueue(job: str, *args: int, queue: str = "dispatch", count: int = 1) -> None:
    """Enqueue once the transaction commits, on messaging's Redis connection (queues.py)."""
    from messaging import queues

    def ring() -> None:
        target = queues.queue(queue)
        for _ in range(count):
            target.enqueue(job, *args)

    transaction.on_commit(ring)


def kick(campaign: Campaign, now: datetime | None = None) -> None:
    """Enqueue the campaign's dispatch jobs (on commit) and note when."""
    Campaign.objects.filter(pk=campaign.pk).update(kicked_at=now or timezone.now())
    _enqueue(
        "messaging.campaigns.jobs.dispatch",
        campaign.pk,
        campaign.run,
        count=settings.CAMPAIGN_DISPATCH_JOBS,
    )


def _run(campaign: Campaign, now: datetime) -> None:
    """Start a new run of a locked campaign: running, dispatch jobs on commit."""
    campaign.status = S.RUNNING
    campaign.run += 1
    campaign.last_error = ""
    campaign.started_at = campaign.started_at or now
    campaign.finished_at = None
    campaign.save(update_fields=["status", "run", "last_error", "started_at", "finished_at"])
    kick(campaign, now)


@transaction.atomic
def launch(actor: Actor, campaign: Campaign, now: datetime | None = None) -> Campaign:
    """Launch now, or at the campaign's scheduled time if that is still ahead."""
    now = now or timezone.now()
    locked = _locked(campaign)
    if locked.status not in LAUNCHABLE:
        raise Refused(f"A {locked.get_status_display().lower()} campaign cannot be launched.")
    before = snapshot(locked)
    check = preflight.check(locked)
    if check.blockers:
        raise Refused("Not launched: " + " ".join(check.blockers))
    _copy_template(locked)
    locked.launched_at = now
    if locked.scheduled_at and locked.scheduled_at > now and locked.status == S.READY:
        locked.status = S.SCHEDULED
        locked.save(
            update_fields=["status", "launched_at", "template_code", "template_name", "language"]
        )
        record(actor, "campaign.schedule", locked, before=before, after=snapshot(locked))
        transaction.on_commit(lambda: _schedule_start(locked))
        return locked
    locked.save(update_fields=["launched_at", "template_code", "template_name", "language"])
    _run(locked, now)
    record(actor, "campaign.launch", locked, before=before, after=snapshot(locked))
    return locked


def _schedule_start(campaign: Campaign) -> None:
    from messaging import queues

    when = campaign.scheduled_at
    if when is None:
        return
    try:
        queues.queue(queues.DISPATCH).enqueue_at(
            when, "messaging.campaigns.jobs.start_scheduled", campaign.pk
        )
    except Exception:  # the sweeper starts due campaigns anyway
        logger.warning("the start of campaign %s was not scheduled", campaign.pk, exc_info=True)


def start_scheduled(campaign_id: int) -> bool:
    """A scheduled campaign's time has come (its job, or the sweeper)."""
    now = timezone.now()
    with transaction.atomic():
        locked = (
            Campaign.objects.select_for_update()
            .filter(pk=campaign_id, status=S.SCHEDULED, scheduled_at__lte=now)
            .first()
        )
        if locked is None:
            return False
        before = snapshot(locked)
        _run(locked, now)
        record(SYSTEM, "campaign.start", locked, before=before, after=snapshot(locked))
    return True


@transaction.atomic
def pause(actor: Actor, campaign: Campaign) -> None:
    locked = _locked(campaign)
    if locked.status != S.RUNNING:
        raise Refused("Only a running campaign can be paused.")
    before = snapshot(locked)
    locked.status = S.PAUSED
    locked.save(update_fields=["status"])
    record(actor, "campaign.pause", locked, before=before, after=snapshot(locked))


@transaction.atomic
def resume(actor: Actor, campaign: Campaign) -> None:
    locked = _locked(campaign)
    if locked.status not in (S.PAUSED, S.FAILED):
        raise Refused("Only a paused campaign can be resumed.")
    check = preflight.check(locked)
    if check.blockers:
        raise Refused("Not resumed: " + " ".join(check.blockers))
    before = snapshot(locked)
    chunks.recut(locked)
    _run(locked, timezone.now())
    record(actor, "campaign.resume", locked, before=before, after=snapshot(locked))


@transaction.atomic
def cancel(actor: Actor, campaign: Campaign) -> None:
    """Stop for good; recipients not yet sent are marked so by a job (there may be a million)."""
    locked = _locked(campaign)
    if locked.status not in CANCELLABLE:
        raise Refused(f"A {locked.get_status_display().lower()} campaign cannot be cancelled.")
    before = snapshot(locked)
    locked.status = S.CANCELLED
    locked.finished_at = timezone.now()
    locked.save(update_fields=["status", "finished_at"])
    record(actor, "campaign.cancel", locked, before=before, after=snapshot(locked))
    _enqueue("messaging.campaigns.jobs.cancel_pending", locked.pk)


def cancel_pending(campaign_id: int) -> int:
    """Mark the recipients of a cancelled campaign that were never sent; how many."""
    now = timezone.now()
    marked = 0
    for chunk_id, first, last in (
        CampaignChunk.objects.filter(campaign_id=campaign_id)
        .exclude(state=CampaignChunk.State.DONE)
        .values_list("id", "first_id", "last_id")
    ):
        with transaction.atomic():
            if not Campaign.objects.filter(pk=campaign_id, status=S.CANCELLED).exists():
                return marked
            marked += Recipient.objects.filter(
                campaign_id=campaign_id, id__gte=first, id__lte=last, state=State.PENDING
            ).update(
                state=State.FAILED,
                failed_at=now,
                error_code=codes.CANCELLED,
                error_message=codes.MEANINGS[codes.CANCELLED],
            )
            CampaignChunk.objects.filter(pk=chunk_id).exclude(
                state=CampaignChunk.State.CLAIMED
            ).update(state=CampaignChunk.State.DONE)
    # Rows no chunk covers (never cut, or a chunk still claimed when we passed).
    marked += Recipient.objects.filter(campaign_id=campaign_id, state=State.PENDING).update(
        state=State.FAILED,
        failed_at=now,
        error_code=codes.CANCELLED,
        error_message=codes.MEANINGS[codes.CANCELLED],
    )
    return marked


def _retryable() -> Q:
    return Q(error_code__in=sorted(codes.RETRYABLE)) | Q(error_code__startswith="Throttling")


@transaction.atomic
def retry_failed(actor: Actor, campaign: Campaign) -> int:
    """Send again to recipients whose failure was about the moment (codes.RETRYABLE)."""
    locked = _locked(campaign)
    if locked.status not in REOPENABLE:
        raise Refused("Retry failed recipients once the campaign is paused or completed.")
    before = snapshot(locked)
    again = Recipient.objects.filter(campaign=locked, state=State.FAILED).filter(_retryable())
    count = again.update(state=State.PENDING, error_code="", error_message="", failed_at=None)
    if not count:
        raise Refused("No failed recipient has an error worth retrying.")
    chunks.recut(locked)
    _run(locked, timezone.now())
    record(
        actor, "campaign.retry", locked, before=before, after=snapshot(locked) | {"count": count}
    )
    return count


@transaction.atomic
def check_unknowns(actor: Actor, campaign: Campaign) -> None:
    """Ask CAMS now about every call of the campaign whose outcome is unknown."""
    record(actor, "campaign.resolve_check", campaign)
    _enqueue("messaging.campaigns.jobs.reconcile", campaign.pk)


@transaction.atomic
def resolve_unknowns(actor: Actor, campaign: Campaign, resend: bool) -> int:
    """The operator's decision about recipients whose outcome stayed unknown: send them again
    (a new call, a new TaskId) or give them up as not sent."""
    locked = _locked(campaign)
    if locked.status not in REOPENABLE:
        raise Refused("Resolve unknown recipients once the campaign is paused or completed.")
    before = snapshot(locked)
    unknown = Recipient.objects.filter(campaign=locked, state=State.UNKNOWN)
    if resend:
        count = unknown.update(state=State.PENDING, error_code="", error_message="")
        if count:
            chunks.recut(locked)
            _run(locked, timezone.now())
    else:
        count = unknown.update(
            state=State.FAILED,
            failed_at=timezone.now(),
            error_code=codes.SKIPPED,
            error_message=codes.MEANINGS[codes.SKIPPED],
        )
    if not count:
        raise Refused("No recipient's outcome is unknown.")
    after = snapshot(locked) | {"count": count, "decision": "resend" if resend else "skip"}
    record(actor, "campaign.resolve", locked, before=before, after=after)
    return count


def record_export(actor: Actor, campaign: Campaign, what: str, filters: dict[str, Any]) -> None:
    """Exports change nothing, but who took which data out belongs in the history."""
    record(actor, f"campaign.{what}", campaign, after={"filters": filters})


def upload_root() -> Path:
    return upload_dir()
