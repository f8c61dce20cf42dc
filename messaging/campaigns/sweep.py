"""The campaigns' part of the messaging sweeper (messaging.sweeper.sweep calls `sweep`).

Every run it repairs what crashes and a lost Redis leave behind, and nothing else:

1. calls still `sending` after their lease: the worker died mid-call, so their recipients become
   `unknown` (CAMS may or may not have them) and the call is queued for reconciliation;
2. chunk claims whose lease ran out go back to waiting (nothing of them was sent, or what was is
   recorded per recipient already);
3. scheduled campaigns whose time has come start (in case their scheduled job was lost);
4. running campaigns with chunks due but no worker on them for a while get fresh dispatch jobs;
5. running campaigns with no chunk left are completed;
6. imports that stopped moving (their worker died) start again, at most a few times;
7. unknown calls are reconciled: receipts settle most of them on their own; otherwise a few of
   the call's recipients are looked up in ListChatappMessage (WhatsApp and Viber). A call is
   all-or-nothing, so one found recipient means CAMS took the whole call. Not found after
   RECONCILE_TRIES looks, its recipients stay `unknown` with a note for an operator, who resends
   or skips them ("resolve unknowns"). Nothing is ever resent on its own;
8. counters of active campaigns are compacted.
"""

import datetime
import logging
from datetime import timedelta
from typing import Any

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from camsconsole.cams.errors import CamsError
from messaging import ratelimit
from messaging.campaigns import actions, chunks, codes, counters
from messaging.campaigns.dispatch import maybe_complete
from messaging.campaigns.models import (
    Campaign,
    CampaignCall,
    CampaignChunk,
    CampaignImport,
    Recipient,
)
from messaging.models import State

logger = logging.getLogger(__name__)

STALL = timedelta(seconds=60)
IMPORT_STALE = timedelta(minutes=2)
IMPORT_TRIES = 3
RECONCILE_AFTER = timedelta(seconds=30)
RECONCILE_TRIES = 5
RECONCILE_SLACK = timedelta(minutes=2)
RECONCILE_CALLS = 20  # per sweep
SAMPLES = 3  # recipients looked up per call
LISTED_CHANNELS = frozenset({"whatsapp", "viber"})
LIST = "ListChatappMessage"


def sweep(now: datetime.datetime | None = None) -> dict[str, int]:
    """One run; never raises: a step that fails is logged and the others still run."""
    now = now or timezone.now()
    steps = {
        "calls_unknown": lambda: expire_calls(now),
        "chunks_released": lambda: chunks.release_expired(now),
        "scheduled_started": lambda: start_due(now),
        "stalled_kicked": lambda: kick_stalled(now),
        "completed": complete_finished,
        "imports_restarted": lambda: restart_imports(now),
        "calls_reconciled": lambda: reconcile(now),
        "counters_compacted": lambda: compact_counters(now),
    }
    report = {}
    for name, step in steps.items():
        try:
            report[name] = step()
        except Exception:
            logger.exception("campaign sweep step %s failed", name)
            report[name] = 0
    return report


def expire_calls(now: datetime.datetime, campaign_id: int | None = None) -> int:
    stale = CampaignCall.objects.filter(state=CampaignCall.State.SENDING, lease_until__lt=now)
    if campaign_id is not None:
        stale = stale.filter(campaign_id=campaign_id)
    expired = list(stale.order_by("id").values_list("id", "first_id", "last_id")[:1000])
    moved = 0
    for call_id, first, last in expired:
        moved += Recipient.objects.filter(
            id__gte=first, id__lte=last, call_id=call_id, state=State.SENDING
        ).update(
            state=State.UNKNOWN,
            unknown_at=now,
            error_code=codes.WORKER_LOST,
            error_message=codes.MEANINGS[codes.WORKER_LOST],
        )
        CampaignCall.objects.filter(pk=call_id, state=CampaignCall.State.SENDING).update(
            state=CampaignCall.State.UNKNOWN,
            error_code=codes.WORKER_LOST,
            error_message=codes.MEANINGS[codes.WORKER_LOST],
            lease_until=None,
            finished_at=now,
        )
    return moved


def start_due(now: datetime.datetime) -> int:
    due = Campaign.objects.filter(status=Campaign.Status.SCHEDULED, scheduled_at__lte=now)
    return sum(actions.start_scheduled(campaign.pk) for campaign in due)


def kick_stalled(now: datetime.datetime) -> int:
    claimed = CampaignChunk.objects.filter(
        campaign=OuterRef("pk"), state=CampaignChunk.State.CLAIMED
    )
    due = CampaignChunk.objects.filter(
        Q(not_before__isnull=True) | Q(not_before__lte=now),
        campaign=OuterRef("pk"),
        state=CampaignChunk.State.PENDING,
    )
    stalled = (
        Campaign.objects.filter(status=Campaign.Status.RUNNING)
        .filter(Q(kicked_at__isnull=True) | Q(kicked_at__lt=now - STALL))
        .filter(Exists(due))
        .exclude(Exists(claimed))
    )
    kicked = 0
    for campaign in stalled:
        logger.info("campaign %s stalled; ringing its dispatch jobs again", campaign.pk)
        actions.kick(campaign, now=now)
        kicked += 1
    return kicked


def complete_finished() -> int:
    running = Campaign.objects.filter(status=Campaign.Status.RUNNING).values_list("pk", "run")
    return sum(maybe_complete(pk, run) for pk, run in running)


def restart_imports(now: datetime.datetime) -> int:
    stale = CampaignImport.objects.filter(
        state__in=(CampaignImport.State.QUEUED, CampaignImport.State.RUNNING)
    ).filter(
        Q(updated_at__lt=now - IMPORT_STALE)
        | Q(updated_at__isnull=True, created_at__lt=now - IMPORT_STALE)
    )
    restarted = 0
    for imp in stale:
        if imp.attempts + 1 >= IMPORT_TRIES:
            from messaging.campaigns.imports import fail

            fail(imp, imp.token, "The import stopped several times (its worker died); try again.")
            continue
        actions.requeue_import(imp, now=now)
        restarted += 1
    return restarted


# -- reconciling unknown calls ----------------------------------------------------------------


def reconcile(now: datetime.datetime, campaign_id: int | None = None, force: bool = False) -> int:
    """Look unknown calls up in CAMS's history; how many calls were settled."""
    calls = CampaignCall.objects.select_related(
        "campaign__channel__account", "campaign__sender"
    ).filter(
        state=CampaignCall.State.UNKNOWN,
        campaign__channel__channel_type__in=LISTED_CHANNELS,
    )
    if campaign_id is not None:
        calls = calls.filter(campaign_id=campaign_id)
    if not force:
        calls = calls.filter(
            reconcile_attempts__lt=RECONCILE_TRIES, started_at__lt=now - RECONCILE_AFTER
        )
    settled = 0
    for call in calls.order_by("id")[: None if force else RECONCILE_CALLS]:
        try:
            settled += reconcile_call(call, now, force=force)
        except (CamsError, ratelimit.RateLimiterUnavailable, ratelimit.SlotTooFar) as exc:
            logger.info("could not ask CAMS about call %s: %s", call.task_id, exc)
            if not force:
                break
    return settled


def reconcile_call(call: CampaignCall, now: datetime.datetime, force: bool = False) -> int:
    """1 if CAMS's history shows the call went through (its recipients become accepted)."""
    unknown = Recipient.objects.filter(
        id__gte=call.first_id, id__lte=call.last_id, call_id=call.pk, state=State.UNKNOWN
    )
    samples = list(unknown.order_by("id").values_list("id", "to")[:SAMPLES])
    if not samples:
        # Receipts settled every recipient already.
        CampaignCall.objects.filter(pk=call.pk).update(
            state=CampaignCall.State.ACCEPTED, reconciled_at=now
        )
        return 1
    campaign = call.campaign
    found: dict[int, str] = {}
    for recipient_id, to in samples:
        item = _look_up(campaign, call, to)
        if item is not None:
            found[recipient_id] = str(item.get("MessageId") or "")
            break
    attempts = call.reconcile_attempts + 1
    if not found:
        values: dict[str, Any] = {"reconcile_attempts": attempts, "reconciled_at": now}
        CampaignCall.objects.filter(pk=call.pk).update(**values)
        if attempts >= RECONCILE_TRIES or force:
            unknown.update(
                error_code=codes.NOT_IN_HISTORY,
                error_message=(
                    f"{codes.MEANINGS[codes.NOT_IN_HISTORY]} (checked "
                    f"{timezone.localtime(now):%Y-%m-%d %H:%M}). Resend or skip it."
                ),
            )
        return 0
    unknown.update(
        state=State.ACCEPTED,
        accepted_at=now,
        error_code="",
        error_message="",
    )
    for recipient_id, message_id in found.items():
        if message_id:
            Recipient.objects.filter(pk=recipient_id, message_id="").update(message_id=message_id)
    CampaignCall.objects.filter(pk=call.pk).update(
        state=CampaignCall.State.ACCEPTED,
        reconcile_attempts=attempts,
        reconciled_at=now,
        error_code="",
        error_message=f"Reconciled from {LIST}.",
    )
    return 1


def _look_up(campaign: Campaign, call: CampaignCall, to: str) -> dict[str, Any] | None:
    account = campaign.channel.account
    ratelimit.acquire(account, LIST, max_wait=5.0)
    with account.client() as client:
        items = client.list_messages(
            cust_space_id=campaign.channel.cust_space_id,
            channel_type=campaign.channel.channel_type,
            business_number=campaign.sender.sender_id,
            user_number=to,
            event_action="DOWN",
            template_code=campaign.template_code or None,
            start_time=int((call.started_at - RECONCILE_SLACK).timestamp() * 1000),
            end_time=int((call.started_at + RECONCILE_SLACK).timestamp() * 1000),
            page_size=10,
        )
    return items[0] if items else None


def compact_counters(now: datetime.datetime) -> int:
    active = Campaign.objects.filter(
        Q(status__in=(Campaign.Status.RUNNING, Campaign.Status.PAUSED))
        | Q(finished_at__gte=now - timedelta(days=1))
    ).values_list("pk", flat=True)
    return sum(counters.compact(pk) for pk in active)
