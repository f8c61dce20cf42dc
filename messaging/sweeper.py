"""The sweeper: a periodic job that repairs what crashes and a lost Redis leave behind.

Every MESSAGING_SWEEP_INTERVAL seconds it

1. takes back claims whose lease ran out (`claimed` -> `pending`: nothing was sent yet);
2. turns `sending` rows whose lease ran out into `unknown` (the worker died mid-call: CAMS may or
   may not have the message);
3. reconciles `unknown` rows: first from stored receipts carrying their TaskId, then, for
   WhatsApp and Viber, from ListChatappMessage (the only channels it serves). A match makes the row
   `accepted` with CAMS's MessageId (and receipts then take it on); a row CAMS still does not list
   after the grace period stays `unknown` with a note, for an operator to resend. Never resent
   automatically;
4. re-enqueues pending rows that are due and have had no dispatch job ring for a while;
5. rings the receipts doorbell when batches wait in the inbox (pushes that came while Redis was
   down), and deletes processed batches past their retention.

It runs on RQ's own scheduler as a chain like templates_app.schedule: each run schedules the next,
and a Redis key names the one run allowed to continue, so starting it twice leaves one chain.
`ensure_sweeper()` (called by the jobs and `manage.py messaging_sweep --schedule`) restarts a
lost chain.
"""

import datetime
import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from redis.exceptions import RedisError
from rq.job import JobStatus

from camsconsole.cams.errors import CamsError
from messaging import queues, ratelimit, receipts
from messaging.models import Message, ReceiptBatch, State

logger = logging.getLogger(__name__)

CHAIN_KEY = "messaging:sweep:next"
LIVE = {JobStatus.SCHEDULED, JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED}

# A pending row whose dispatch job rang longer ago than this is rung again.
STALE_DOORBELL = timedelta(seconds=60)
# A batch waiting this long in the inbox gets a doorbell of its own.
INBOX_GRACE = timedelta(seconds=10)
# ListChatappMessage is asked about an unknown row once it is this old (CAMS's history needs a
# moment), at most RECONCILE_TRIES times, and the time window searched around its call is
# RECONCILE_SLACK on either side.
RECONCILE_AFTER = timedelta(seconds=30)
RECONCILE_TRIES = 5
RECONCILE_SLACK = timedelta(minutes=2)
RECONCILE_BATCH = 50
LISTED_CHANNELS = frozenset({"whatsapp", "viber"})
CHUNK = 100
LIST = "ListChatappMessage"


def sweep(now: datetime.datetime | None = None) -> dict[str, int]:
    now = now or timezone.now()
    report = {
        "claims_released": release_expired_claims(now),
        "sending_to_unknown": expire_sending(now),
        "reconciled": reconcile_unknown(now),
        "requeued": requeue_pending(now),
        "batches_rung": ring_inbox(now),
        "batches_deleted": prune_inbox(now),
    }
    from messaging.campaigns import sweep as campaigns  # it imports this module's neighbours

    report |= {f"campaign_{name}": count for name, count in campaigns.sweep(now).items()}
    if any(report.values()):
        logger.info("sweep: %s", report)
    return report


def release_expired_claims(now: datetime.datetime) -> int:
    return Message.objects.filter(state=State.CLAIMED, lease_until__lt=now).update(
        state=State.PENDING, lease_until=None, enqueued_at=None
    )


def expire_sending(now: datetime.datetime) -> int:
    return Message.objects.filter(state=State.SENDING, lease_until__lt=now).update(
        state=State.UNKNOWN,
        unknown_at=now,
        lease_until=None,
        error_code="Console.WorkerLost",
        error_message="The worker stopped during the call to CAMS; the outcome is unknown.",
    )


def reconcile_unknown(now: datetime.datetime) -> int:
    unknown = list(
        Message.objects.filter(state=State.UNKNOWN).order_by("pk").values_list("pk", flat=True)
    )
    moved = 0
    for start in range(0, len(unknown), CHUNK):
        moved += len(receipts.attach_unmatched(unknown[start : start + CHUNK]))
    ask = (
        Message.objects.select_related("channel__account", "sender")
        .filter(
            state=State.UNKNOWN,
            channel__channel_type__in=LISTED_CHANNELS,
            reconcile_attempts__lt=RECONCILE_TRIES,
        )
        .filter(Q(sending_at__lt=now - RECONCILE_AFTER) | Q(sending_at__isnull=True))
        .order_by("pk")[:RECONCILE_BATCH]
    )
    for message in ask:
        try:
            moved += reconcile_from_history(message, now)
        except (CamsError, ratelimit.RateLimiterUnavailable, ratelimit.SlotTooFar) as exc:
            logger.info("could not ask CAMS about message %s: %s", message.pk, exc)
    return moved


def reconcile_from_history(message: Message, now: datetime.datetime) -> int:
    """Look the message up in ListChatappMessage; 1 if it was found there."""
    account = message.channel.account
    sent = message.sending_at or message.created_at
    ratelimit.acquire(account, LIST, max_wait=5.0)
    with account.client() as client:
        found = client.list_messages(
            cust_space_id=message.channel.cust_space_id,
            channel_type=message.channel.channel_type,
            business_number=message.sender.sender_id,
            user_number=message.to,
            event_action="DOWN",
            template_code=message.template_code or None,
            start_time=int((sent - RECONCILE_SLACK).timestamp() * 1000),
            end_time=int((sent + RECONCILE_SLACK).timestamp() * 1000),
            page_size=20,
        )
    taken = set(
        Message.objects.filter(message_id__in=[str(item.get("MessageId")) for item in found])
        .exclude(pk=message.pk)
        .values_list("message_id", flat=True)
    )
    candidates = [
        item
        for item in found
        if item.get("MessageId")
        and str(item["MessageId"]) not in taken
        and str(item.get("Type") or message.kind).lower() == message.kind
    ]
    attempts = message.reconcile_attempts + 1
    if not candidates:
        note = (
            f"Not in CAMS's message history as of {timezone.localtime(now):%Y-%m-%d %H:%M}"
            f" (check {attempts} of {RECONCILE_TRIES}). If it never arrives, resend it."
        )
        Message.objects.filter(pk=message.pk, state=State.UNKNOWN).update(
            reconcile_attempts=attempts, reconciled_at=now, error_message=note
        )
        return 0
    # Several identical messages to one user in minutes are rare; the one listed nearest to our
    # call is the best guess, and its receipts will confirm it.
    best = min(candidates, key=lambda item: abs(_listed_time(item, sent) - sent))
    cams_id = str(best["MessageId"])
    updated = Message.objects.filter(pk=message.pk, state=State.UNKNOWN).update(
        state=State.ACCEPTED,
        message_id=cams_id,
        accepted_at=now,
        reconcile_attempts=attempts,
        reconciled_at=now,
        error_code="",
        error_message="",
        response={"ReconciledFrom": LIST, **{k: best.get(k) for k in ("MessageId", "SendTime")}},
    )
    if updated:
        receipts.attach_unmatched([message.pk])
        _apply_listed_status(message.pk, cams_id, best)
    return updated


def _listed_time(item: dict[str, Any], fallback: datetime.datetime) -> datetime.datetime:
    try:
        parsed = datetime.datetime.strptime(str(item.get("SendTime")), "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return fallback
    return parsed.replace(tzinfo=datetime.UTC)


def _apply_listed_status(message_pk: int, cams_id: str, item: dict[str, Any]) -> None:
    """ListChatappMessage's MessageStatus as a status event, as if its receipt had come."""
    rank = receipts.STATUS_RANKS.get(str(item.get("MessageStatus") or "").lower())
    if not rank:
        return
    message = Message.objects.get(pk=message_pk)
    event = receipts.StatusRow(
        channel_id=message.channel_id,
        batch_id=None,
        message_id=message_pk,
        cams_message_id=cams_id,
        task_id=message.task_id,
        to=message.to,
        status=rank,
        occurred_at=_listed_time(item, timezone.now()),
        error_code=str(item.get("FailReason") or "")[:64] if rank == 5 else "",
    )
    receipts.apply_statuses([event])


def requeue_pending(now: datetime.datetime) -> int:
    stale = now - STALE_DOORBELL
    due = (
        Message.objects.filter(state=State.PENDING)
        .filter(Q(not_before__isnull=True) | Q(not_before__lte=now))
        .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=stale))
    )
    ids = list(due.order_by("pk").values_list("pk", flat=True)[:10_000])
    rung = 0
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        try:
            queues.enqueue_dispatch("messaging.jobs.send", chunk)
        except RedisError:
            return rung
        Message.objects.filter(pk__in=chunk, state=State.PENDING).update(enqueued_at=now)
        rung += len(chunk)
    return rung


def ring_inbox(now: datetime.datetime) -> int:
    waiting = ReceiptBatch.objects.filter(
        processed_at__isnull=True, error="", received_at__lt=now - INBOX_GRACE
    ).count()
    if waiting:
        queues.clear_doorbell()  # an expired job may hold it; ring afresh
        queues.ring_receipts()
    return waiting


def prune_inbox(now: datetime.datetime) -> int:
    cutoff = now - timedelta(days=settings.RECEIPT_RETENTION_DAYS)
    old = ReceiptBatch.objects.filter(processed_at__lt=cutoff).order_by("pk")[:10_000]
    deleted, _ = ReceiptBatch.objects.filter(pk__in=list(old.values_list("pk", flat=True))).delete()
    return deleted


# -- the chain ------------------------------------------------------------------------------------


def schedule_next(delay: float | None = None) -> str:
    queue = queues.queue(queues.DISPATCH)
    seconds = settings.MESSAGING_SWEEP_INTERVAL if delay is None else delay
    job = queue.enqueue_in(timedelta(seconds=seconds), "messaging.jobs.sweep")
    queue.connection.set(CHAIN_KEY, job.id)
    return job.id


def chain_job_id() -> str | None:
    value = queues.redis_client().get(CHAIN_KEY)
    return value.decode() if isinstance(value, bytes) else value


def ensure_sweeper() -> bool:
    """Start the chain unless it is alive; whether it was started. Never raises."""
    try:
        current = chain_job_id()
        job = queues.queue(queues.DISPATCH).fetch_job(current) if current else None
        if job is not None and job.get_status() in LIVE:
            return False
        schedule_next()
    except RedisError:
        return False
    return True
