"""Sending a campaign at the account's full rate, never twice, losing no one.

A dispatch job (jobs.dispatch, ids only: the campaign and its run number) sends from a few
threads ("lanes") until the campaign is done, paused or cancelled. Each lane repeats:

1. claim a chunk (chunks.claim: SKIP LOCKED, with a lease) of a campaign still running this run;
   a disabled sender or a template no longer approved pauses the campaign instead of failing
   its recipients;
2. commit in one transaction the call with its own TaskId (`CampaignCall`) and up to a batch of
   the chunk's pending recipients as `sending`; recipients who joined the suppression list since
   the import become `suppressed` instead. Then build and sign the request;
3. wait for the call's slot from the shared GCRA limiter (ratelimit.acquire, one Redis call).
   Only writing the request is left by then (camsconsole/cams/transport.py), so the call leaves
   at its slot: the limiter's 2 % margin is the budget for jitter between slot and CAMS, and
   work done after the slot would spend it. Redis unreachable: the lane waits; if it stays
   away the committed call is undone (it was never made) and nothing is lost;
4. call CAMS once: SendChatappMassMessage with up to the batch size of recipients sharing the
   TaskId, or SendChatappMessage for one;
5. record the outcome in one transaction, with updates that never undo what receipts already
   said: accepted; retryable (throttled, refused before sending) -> back to `pending` with a
   backoff, and after System.LimitControl every worker slows down (ratelimit.slow_down);
   ambiguous (timeout, 5xx, broken connection) -> `unknown`, reconciled from receipts and CAMS's
   history and never resent on its own; anything else -> `failed` with CAMS's code and meaning.

A worker that dies between 2 and 5 leaves `sending` recipients; once their call's lease runs out
they become `unknown` (the sweeper, or heal() in any job of the campaign) and are reconciled.

A job runs for CAMPAIGN_JOB_SECONDS, and longer while no other job waits in the queues (a lone
worker then never pauses between jobs), then hands over to a successor. The hot statements are
plain SQL: a million recipients make ten calls a second, each a handful of statements.
"""

import json
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.db import OperationalError, close_old_connections, connection, connections, transaction
from django.db.models import F
from django.utils import timezone

from camsconsole.audit import SYSTEM, record
from camsconsole.cams import errors
from camsconsole.cams.errors import CamsError, CamsThrottled
from camsconsole.models import Account, Sender
from messaging import dispatch as core
from messaging import ratelimit
from messaging.campaigns import chunks, codes
from messaging.campaigns.models import (
    Campaign,
    CampaignCall,
    CampaignChunk,
    CampaignSecond,
    Recipient,
)
from messaging.models import State, Suppression, new_task_id
from templates_app.models import Status as TemplateStatus
from templates_app.models import Variant

logger = logging.getLogger(__name__)

# A lane looks at the sender and the template at most this often.
CHECK_EVERY = 1.0
# A lane with nothing to claim looks again this often while other lanes hold chunks.
IDLE_WAIT = 0.25
# However alone a job is, it hands over after this long (RQ's job timeout is longer).
JOB_MAX_SECONDS = 480.0
# A job keeps trying to enqueue its successor this long while Redis is away (a restart).
HAND_OVER_SECONDS = 60.0

CALL_OPTIONS = ("FallBackId", "FallBackContent", "FallBackDuration", "FallBackRule")
VIBER_OPTIONS = ("Label", "Ttl", "Tag")

RECIPIENTS = Recipient._meta.db_table
CALLS = CampaignCall._meta.db_table
CHUNKS = CampaignChunk._meta.db_table

T = TypeVar("T")


class Stop(Exception):
    """The campaign no longer runs this run: the lane ends."""


@dataclass(frozen=True)
class Context:
    """What every call of one campaign run has in common, read once per job."""

    campaign_id: int
    run: int
    mass: bool
    batch_size: int
    account: Account
    sender_pk: int
    channel_type: str
    sender_id: str
    cust_space_id: str
    channel_id: int
    variant_id: int | None
    template_code: str
    language: str
    options: dict[str, Any]

    @property
    def operation(self) -> str:
        return core.MASS_SEND if self.mass else core.SEND

    def shared_params(self, task_id: str) -> dict[str, Any]:
        params: dict[str, Any] = {
            "ChannelType": self.channel_type,
            "From": self.sender_id,
            "Language": self.language,
            "TemplateCode": self.template_code,
            "TaskId": task_id,
        }
        if self.cust_space_id:
            params["CustSpaceId"] = self.cust_space_id
        names = CALL_OPTIONS + (VIBER_OPTIONS if self.channel_type == "viber" else ())
        for name in names:
            if self.options.get(name) not in (None, ""):
                params[name] = self.options[name]
        return params


def context(campaign_id: int, run: int) -> Context | None:
    campaign = (
        Campaign.objects.select_related("channel__account", "sender")
        .filter(pk=campaign_id, status=Campaign.Status.RUNNING, run=run)
        .first()
    )
    if campaign is None:
        return None
    return Context(
        campaign_id=campaign.pk,
        run=run,
        mass=campaign.is_mass,
        batch_size=campaign.batch_size,
        account=campaign.channel.account,
        sender_pk=campaign.sender_id,
        channel_type=campaign.channel.channel_type,
        sender_id=campaign.sender.sender_id,
        cust_space_id=campaign.channel.cust_space_id,
        channel_id=campaign.channel_id,
        variant_id=campaign.variant_id,
        template_code=campaign.template_code,
        language=campaign.language,
        options=dict(campaign.options or {}),
    )


def _db(value: datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


# -- the send-rate figures ------------------------------------------------------------------------


class Tally:
    """Outcomes per second, saved to CampaignSecond about once a second (the send-rate chart)."""

    def __init__(self, campaign_id: int) -> None:
        self.campaign_id = campaign_id
        self.seconds: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
        self.saved_at = time.monotonic()

    def add(self, accepted: int = 0, refused: int = 0, throttled: int = 0) -> None:
        entry = self.seconds[int(time.time())]
        entry[0] += accepted
        entry[1] += refused
        entry[2] += 1
        entry[3] += throttled
        if time.monotonic() - self.saved_at >= 1.0:
            self.save()

    def save(self) -> None:
        self.saved_at = time.monotonic()
        if not self.seconds:
            return
        waiting, self.seconds = self.seconds, defaultdict(lambda: [0, 0, 0, 0])
        try:
            _add_seconds(self.campaign_id, waiting)
        except Exception:  # the chart is not worth a lost outcome
            logger.exception("send-rate figures of campaign %s were not saved", self.campaign_id)


def _add_seconds(campaign_id: int, seconds: dict[int, list[int]]) -> None:
    for second, (accepted, refused, calls, throttled) in sorted(seconds.items()):
        CampaignSecond.objects.bulk_create(
            [CampaignSecond(campaign_id=campaign_id, second=second)], ignore_conflicts=True
        )
        CampaignSecond.objects.filter(campaign_id=campaign_id, second=second).update(
            accepted=F("accepted") + accepted,
            refused=F("refused") + refused,
            calls=F("calls") + calls,
            throttled=F("throttled") + throttled,
        )


# -- the job --------------------------------------------------------------------------------------


class Budget:
    """How long the job's lanes go on: CAMPAIGN_JOB_SECONDS, extended while no other job waits
    for a worker (up to JOB_MAX_SECONDS), so a lone worker sends without a gap."""

    def __init__(self, campaign_id: int, seconds: float, extend: bool = True) -> None:
        self.campaign_id = campaign_id
        self.started = time.monotonic()
        self.deadline = self.started + seconds
        self.step = seconds
        self.extend = extend and seconds > 0
        self.lock = threading.Lock()

    def left(self) -> bool:
        now = time.monotonic()
        if now < self.deadline:
            return True
        with self.lock:
            if now < self.deadline:
                return True
            alone = self.extend and now + self.step - self.started <= JOB_MAX_SECONDS
            if alone and not _others_waiting(self.campaign_id):
                self.deadline = now + self.step
                return True
            self.extend = False
            return False

    def within(self, seconds: float) -> bool:
        return time.monotonic() + seconds <= self.deadline


def _others_waiting(campaign_id: int) -> bool:
    """Whether a job other than this campaign's own dispatch jobs waits in a messaging queue."""
    from messaging import queues

    try:
        for name in (queues.RECEIPTS, queues.DISPATCH, "default"):
            queue = queues.queue(name)
            if not queue.count:
                continue
            for job in queue.get_jobs(0, 20):
                if job.func_name != "messaging.campaigns.jobs.dispatch":
                    return True
                if job.args[:1] != (campaign_id,):
                    return True
    except Exception:
        return True  # hand over: the successor finds out for itself
    return False


def heal(campaign_id: int) -> None:
    """What the sweeper would repair for this campaign, done by its own jobs too, so that a
    campaign recovers from dead workers even while the sweeper's chain is broken."""
    from messaging.campaigns.sweep import expire_calls

    now = timezone.now()
    expire_calls(now, campaign_id)
    chunks.release_expired(now, campaign_id)


def send(campaign_id: int, run: int, budget: float | None = None) -> str:
    """The dispatch job; what it ended with: "stopped", "done", "idle" or "later"."""
    ctx = context(campaign_id, run)
    if ctx is None:
        return "stopped"
    heal(campaign_id)
    seconds = settings.CAMPAIGN_JOB_SECONDS if budget is None else budget
    allowance = Budget(campaign_id, seconds, extend=budget is None)
    lanes = settings.CAMPAIGN_MASS_THREADS if ctx.mass else settings.CAMPAIGN_SINGLE_THREADS
    if lanes <= 1:
        results = [lane(ctx, allowance)]
    else:
        results = []
        lock = threading.Lock()

        def work() -> None:
            try:
                outcome = lane(ctx, allowance)
            except Exception:
                logger.exception("a dispatch lane of campaign %s failed", campaign_id)
                outcome = "later"
            finally:
                connections.close_all()
            with lock:
                results.append(outcome)

        threads = [
            threading.Thread(target=work, name=f"campaign-{campaign_id}-lane-{n}", daemon=True)
            for n in range(lanes)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    if "later" in results:
        hand_over(ctx)
        return "later"
    if all(result == "stopped" for result in results):
        return "stopped"
    if maybe_complete(campaign_id, run):
        return "done"
    # Chunks are still claimed or calls in flight, perhaps by workers that died: look again
    # when their leases run out, in case nobody else does.
    ends = chunks.next_lease_end(campaign_id)
    if ends is not None and _still_running(ctx):
        hand_over(ctx, at=ends + timedelta(seconds=5))
    return "idle"


def hand_over(ctx: Context, at: datetime | None = None) -> None:
    """Enqueue a successor job for when the next chunk is due (or `at`). Redis may be down for
    a moment (a restart): keep trying for a while; the sweeper rings again if this fails."""
    from messaging import queues

    due = at or chunks.next_due(ctx.campaign_id) or chunks.next_lease_end(ctx.campaign_id)
    delay = max(0.0, (due - timezone.now()).total_seconds()) if due else 0.0
    give_up = time.monotonic() + HAND_OVER_SECONDS
    attempt = 0
    while True:
        try:
            queues.enqueue_dispatch(
                "messaging.campaigns.jobs.dispatch", ctx.campaign_id, ctx.run, delay=delay
            )
        except Exception as exc:  # RedisError and friends
            logger.warning("campaign %s: successor not enqueued yet (%s)", ctx.campaign_id, exc)
            attempt += 1
            if time.monotonic() >= give_up:
                return
            time.sleep(min(5.0, 0.5 * attempt))
            continue
        Campaign.objects.filter(pk=ctx.campaign_id).update(kicked_at=timezone.now())
        return


def maybe_complete(campaign_id: int, run: int) -> bool:
    """Mark the campaign completed once no chunk is waiting or claimed and no call is in flight.
    Pending recipients that no chunk covers (never expected) get chunks first, so no one is left
    behind."""
    if chunks.work_left(campaign_id):
        return False
    with transaction.atomic():
        campaign = (
            Campaign.objects.select_for_update()
            .filter(pk=campaign_id, status=Campaign.Status.RUNNING, run=run)
            .first()
        )
        if campaign is None or chunks.work_left(campaign_id):
            return False
        from messaging.campaigns.counters import counts

        if counts(campaign_id)[State.PENDING] and chunks.cut(campaign):
            from messaging.campaigns.actions import kick

            kick(campaign)
            return False
        campaign.status = Campaign.Status.COMPLETED
        campaign.finished_at = timezone.now()
        campaign.save(update_fields=["status", "finished_at"])
        record(SYSTEM, "campaign.complete", campaign, after={"status": campaign.status})
    return True


def lane(ctx: Context, budget: Budget | float) -> str:
    """Claim and send chunks while the budget lasts; "stopped", "idle" or "later"."""
    if not isinstance(budget, Budget):
        budget = Budget(ctx.campaign_id, budget - time.monotonic(), extend=False)
    clients = core.Clients()
    tally = Tally(ctx.campaign_id)
    guard = Guard(ctx)
    step = _mass_chunk if ctx.mass else _single_chunk
    try:
        while budget.left():
            try:
                claim = chunks.claim(ctx.campaign_id, ctx.run)
            except OperationalError:
                logger.exception("claiming a chunk failed; trying again")
                close_old_connections()
                time.sleep(IDLE_WAIT)
                continue
            if claim is None:
                if not _still_running(ctx):
                    return "stopped"
                heal(ctx.campaign_id)
                due = chunks.next_due(ctx.campaign_id)
                if due is None:
                    # Nothing waits. Chunks still claimed and calls in flight may belong to a
                    # worker that died: stay until their leases run out (then heal() takes
                    # them back), unless that is beyond the budget.
                    ends = chunks.next_lease_end(ctx.campaign_id)
                    if ends is None:
                        return "idle"
                    if not budget.within((ends - timezone.now()).total_seconds()):
                        return "later"
                    time.sleep(1.0)
                    continue
                wait = (due - timezone.now()).total_seconds()
                if not budget.within(wait):
                    return "later"
                time.sleep(min(max(wait, IDLE_WAIT), 1.0))
                continue
            try:
                guard.check(claim)
                step(ctx, claim, clients, tally, budget)
            except Stop:
                return "stopped"
            except ratelimit.RateLimiterUnavailable:
                chunks.put_back(claim)  # nothing of it was committed as sending
                return "later"
        return "later"
    finally:
        tally.save()
        clients.close()


def _still_running(ctx: Context) -> bool:
    return Campaign.objects.filter(
        pk=ctx.campaign_id, status=Campaign.Status.RUNNING, run=ctx.run
    ).exists()


class Guard:
    """Checks, at most once a second, that the campaign may still send at all."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.checked = 0.0

    def check(self, claim: chunks.Claim) -> None:
        if time.monotonic() - self.checked < CHECK_EVERY:
            return
        problem = _problem(self.ctx)
        if problem:
            chunks.put_back(claim)
            pause_for(self.ctx, problem)
            raise Stop
        self.checked = time.monotonic()


def _problem(ctx: Context) -> str:
    """Why nothing may be sent for this campaign now, or ""."""
    usable = Sender.objects.filter(
        pk=ctx.sender_pk,
        is_active=True,
        channel__is_active=True,
        channel__account__is_active=True,
    ).exists()
    if not usable:
        return "The sender, its channel or its account was disabled."
    if ctx.variant_id is not None:
        found = Variant.objects.filter(pk=ctx.variant_id).values_list("status", "allow_send")
        first = found.first()
        if first is None:
            return "The template was deleted."
        status, allow_send = first
        if status != TemplateStatus.PASS or allow_send is False:
            return f"The template is no longer approved (its status is {status})."
    return ""


def pause_for(ctx: Context, reason: str) -> None:
    """Stop sending and tell the operator why; nothing is failed."""
    with transaction.atomic():
        campaign = (
            Campaign.objects.select_for_update()
            .filter(pk=ctx.campaign_id, status=Campaign.Status.RUNNING, run=ctx.run)
            .first()
        )
        if campaign is None:
            return
        campaign.status = Campaign.Status.PAUSED
        campaign.last_error = reason
        campaign.save(update_fields=["status", "last_error"])
        record(SYSTEM, "campaign.pause", campaign, after={"status": "paused", "reason": reason})


def _wait_for_slot(ctx: Context, budget: Budget, call_id: int, first_id: int, last_id: int) -> None:
    """Wait for the call's slot from the shared limiter (ratelimit.acquire: a late wake-up
    takes a new slot rather than crowd the next call). The request is ready by then: only
    sending it is left, so it leaves at its slot. Waits out a Redis outage while the budget
    lasts; after that the committed call is undone (it was never made) and
    RateLimiterUnavailable propagates."""
    while True:
        try:
            ratelimit.acquire(ctx.account, ctx.operation)
        except ratelimit.RateLimiterUnavailable as exc:
            logger.warning("campaign %s waits for the rate limiter: %s", ctx.campaign_id, exc)
            if budget.within(1.0):
                time.sleep(1.0)
                continue
            _retrying(lambda: _not_made(ctx, call_id, first_id, last_id))
            raise
        return


def _not_made(ctx: Context, call_id: int, first_id: int, last_id: int) -> None:
    """A committed call that was never made: its recipients wait again, untouched."""
    with transaction.atomic():
        Recipient.objects.filter(
            campaign_id=ctx.campaign_id,
            id__gte=first_id,
            id__lte=last_id,
            call_id=call_id,
            state=State.SENDING,
        ).update(state=State.PENDING, attempts=F("attempts") - 1)
        CampaignCall.objects.filter(pk=call_id).delete()


def _retrying(action: Callable[[], T], attempts: int = 5) -> T:
    """Run a recording step again after a deadlock or a dropped connection: losing an outcome
    would leave recipients `sending`, then `unknown`, for nothing."""
    for attempt in range(attempts):
        try:
            return action()
        except OperationalError:
            if attempt == attempts - 1:
                raise
            logger.warning("recording an outcome failed; trying again", exc_info=True)
            close_old_connections()
            time.sleep(0.2 * (attempt + 1))
    raise AssertionError("unreachable")


# -- committing calls -----------------------------------------------------------------------------


def _suppress(cursor: Any, ctx: Context, first_id: int, last_id: int, now: datetime) -> None:
    """Recipients who opted out since the import are not sent to."""
    suppressions = Suppression._meta.db_table
    cursor.execute(
        f"UPDATE {RECIPIENTS} SET state = %s, error_code = %s, error_message = %s, "  # noqa: S608
        f'failed_at = %s WHERE campaign_id = %s AND id BETWEEN %s AND %s AND state = %s AND "to" '
        f'IN (SELECT "user" FROM {suppressions} WHERE channel_id = %s AND business_number = %s '
        "AND active)",
        [
            State.SUPPRESSED,
            codes.SUPPRESSED,
            codes.MEANINGS[codes.SUPPRESSED],
            _db(now),
            ctx.campaign_id,
            first_id,
            last_id,
            State.PENDING,
            ctx.channel_id,
            ctx.sender_id,
        ],
    )


def _start_call(
    ctx: Context, chunk_id: int | None, first_id: int, last_id: int, limit: int
) -> tuple[int, str, list[tuple[int, str, Any, Any]]] | None:
    """Commit a call and up to `limit` pending recipients of the id range as `sending`, before
    the call is made: (call id, TaskId, rows), or None when no recipient was pending."""
    task_id = new_task_id()
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        _suppress(cursor, ctx, first_id, last_id, now)
        cursor.execute(
            f"INSERT INTO {CALLS} (campaign_id, chunk_id, task_id, recipients, first_id, "  # noqa: S608
            "last_id, state, started_at, lease_until, group_message_id, message_id, request_id, "
            "error_code, error_message, reconcile_attempts) "
            "VALUES (%s, %s, %s, 0, %s, %s, %s, %s, %s, '', '', '', '', '', 0) RETURNING id",
            [
                ctx.campaign_id,
                chunk_id,
                task_id,
                first_id,
                last_id,
                CampaignCall.State.SENDING,
                _db(now),
                _db(now + core.sending_lease()),
            ],
        )
        call_id = int(cursor.fetchone()[0])
        # The outer `state` test is re-checked on a row another worker changed meanwhile
        # (PostgreSQL re-evaluates it after the row lock), so no row is ever taken twice.
        as_text = "::text" if connection.vendor == "postgresql" else ""
        cursor.execute(
            f"UPDATE {RECIPIENTS} SET state = %s, task_id = %s, call_id = %s, sending_at = %s, "  # noqa: S608
            "attempts = attempts + 1 WHERE state = %s AND id IN ("
            f"SELECT id FROM {RECIPIENTS} WHERE campaign_id = %s AND id BETWEEN %s AND %s "
            f'AND state = %s ORDER BY id LIMIT %s) RETURNING id, "to", params{as_text}, '
            f"payload{as_text}",
            [
                State.SENDING,
                task_id,
                call_id,
                _db(now),
                State.PENDING,
                ctx.campaign_id,
                first_id,
                last_id,
                State.PENDING,
                limit,
            ],
        )
        rows: list[tuple[int, str, str, str]] = cursor.fetchall()
        if not rows:
            cursor.execute(f"DELETE FROM {CALLS} WHERE id = %s", [call_id])  # noqa: S608
            return None
        ids = [row[0] for row in rows]
        cursor.execute(
            f"UPDATE {CALLS} SET recipients = %s, first_id = %s, last_id = %s "  # noqa: S608
            "WHERE id = %s",
            [len(rows), min(ids), max(ids), call_id],
        )
    return call_id, task_id, rows


EMPTY = ("", "{}", "[]", "null")


def sender_list(rows: list[tuple[int, str, str, str]]) -> str:
    """The SenderList parameter as compact JSON text, written from the stored JSON texts
    without decoding them (a thousand recipients ten times a second)."""
    entries = []
    for _, to, variables, payload in rows:
        entry = '{"To":' + json.dumps(to)
        if variables not in EMPTY:
            entry += ',"TemplateParams":' + variables
        if payload not in EMPTY:
            entry += ',"Payload":' + payload
        entries.append(entry + "}")
    return "[" + ",".join(entries) + "]"


# -- recording outcomes ---------------------------------------------------------------------------


def _record_accepted(
    ctx: Context,
    call_id: int,
    first_id: int,
    last_id: int,
    body: dict[str, Any],
    claim: chunks.Claim | None,
    *,
    group_id: str = "",
    message_id: str = "",
) -> None:
    """CAMS took the call. Receipts may already have moved recipients on: never back."""
    now = _db(timezone.now())
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {CALLS} SET state = %s, group_message_id = %s, message_id = %s, "  # noqa: S608
            "request_id = %s, finished_at = %s, lease_until = NULL, error_code = '', "
            "error_message = '' WHERE id = %s",
            [
                CampaignCall.State.ACCEPTED,
                group_id,
                message_id,
                str(body.get("RequestId") or "")[:64],
                now,
                call_id,
            ],
        )
        cursor.execute(
            f"UPDATE {RECIPIENTS} SET "  # noqa: S608
            "state = CASE WHEN state IN (%s, %s) THEN %s ELSE state END, "
            "accepted_at = COALESCE(accepted_at, %s), "
            "error_code = CASE WHEN state = %s THEN '' ELSE error_code END, "
            "error_message = CASE WHEN state = %s THEN '' ELSE error_message END, "
            "message_id = CASE WHEN message_id = '' THEN %s ELSE message_id END "
            "WHERE campaign_id = %s AND id BETWEEN %s AND %s AND call_id = %s",
            [
                State.SENDING,
                State.UNKNOWN,
                State.ACCEPTED,
                now,
                State.UNKNOWN,
                State.UNKNOWN,
                message_id,
                ctx.campaign_id,
                first_id,
                last_id,
                call_id,
            ],
        )
        if claim is not None:
            chunks.close(claim)


def _record_error(
    ctx: Context,
    call_id: int,
    first_id: int,
    last_id: int,
    exc: CamsError,
    attempts: int,
    tally: Tally,
) -> datetime | None:
    """Store what went wrong and decide what happens to the call's recipients; when retryable,
    the time to try again (None when they gave up or the refusal was final)."""
    now = timezone.now()
    text = f"{exc.plain} ({exc.message})" if exc.message else exc.plain
    throttled = isinstance(exc, CamsThrottled) or errors.is_throttling(exc.code)
    if throttled:
        ratelimit.slow_down(ctx.account, ctx.operation)
    rows = Recipient.objects.filter(
        campaign_id=ctx.campaign_id,
        id__gte=first_id,
        id__lte=last_id,
        call_id=call_id,
        state=State.SENDING,
    )
    retry_at = None
    with transaction.atomic():
        if exc.retryable:
            call_state = CampaignCall.State.RETRY
        elif exc.ambiguous:
            call_state = CampaignCall.State.UNKNOWN
        else:
            call_state = CampaignCall.State.FAILED
        CampaignCall.objects.filter(pk=call_id).update(
            state=call_state,
            request_id=(exc.request_id or "")[:64],
            error_code=exc.code[:100],
            error_message=text,
            finished_at=now,
            lease_until=None,
        )
        code = exc.code[:100]
        if exc.retryable and attempts >= core.MAX_ATTEMPTS:
            rows.update(
                state=State.FAILED,
                failed_at=now,
                error_code=codes.GAVE_UP,
                error_message=f"Gave up after {attempts} attempts: {text}",
            )
        elif exc.retryable:
            hint = exc.retry_after if isinstance(exc, CamsThrottled) else None
            retry_at = now + timedelta(seconds=max(hint or 0.0, core.backoff(attempts)))
            rows.update(state=State.PENDING, error_code=code, error_message=text)
        elif exc.ambiguous:
            rows.update(state=State.UNKNOWN, unknown_at=now, error_code=code, error_message=text)
        else:
            rows.update(state=State.FAILED, failed_at=now, error_code=code, error_message=text)
    refused = 0 if exc.retryable else last_id - first_id + 1 if ctx.mass else 1
    tally.add(refused=refused, throttled=1 if throttled else 0)
    return retry_at


# -- mass calls ----------------------------------------------------------------------------------


def _mass_chunk(
    ctx: Context, claim: chunks.Claim, clients: core.Clients, tally: Tally, budget: Budget
) -> None:
    started = _start_call(ctx, claim.chunk_id, claim.first_id, claim.last_id, ctx.batch_size)
    if started is None:
        chunks.close(claim)
        return
    call_id, task_id, rows = started
    ids = [row[0] for row in rows]
    first_id, last_id = min(ids), max(ids)
    params = ctx.shared_params(task_id)
    # Passed as JSON text: the client sends strings as they are (client.encode_params).
    params["SenderList"] = sender_list(rows)
    client = clients.get(ctx.account)
    prepared = client.prepare(core.MASS_SEND, params)
    _wait_for_slot(ctx, budget, call_id, first_id, last_id)
    try:
        body = client.send(prepared)
        group_id = str(body.get("GroupMessageId") or "")
        if not group_id:
            raise errors.CamsAmbiguous(
                errors.BAD_RESPONSE, "GroupMessageId missing from an OK answer"
            )
    except CamsError as exc:
        refusal = exc
        attempts = claim.attempts + 1
        retry_at = _retrying(
            lambda: _record_error(ctx, call_id, first_id, last_id, refusal, attempts, tally)
        )
        if retry_at is not None:
            chunks.put_back(claim, not_before=retry_at, attempts=attempts)
        else:
            chunks.close(claim)
        return
    _retrying(
        lambda: _record_accepted(ctx, call_id, first_id, last_id, body, claim, group_id=group_id)
    )
    tally.add(accepted=len(rows))


# -- single sends --------------------------------------------------------------------------------


def _single_chunk(
    ctx: Context, claim: chunks.Claim, clients: core.Clients, tally: Tally, budget: Budget
) -> None:
    pending = list(
        Recipient.objects.filter(
            campaign_id=ctx.campaign_id,
            id__gte=claim.first_id,
            id__lte=claim.last_id,
            state=State.PENDING,
        )
        .order_by("id")
        .values_list("id", flat=True)
    )
    checked = time.monotonic()
    retry_at: datetime | None = None
    for recipient_id in pending:
        if time.monotonic() - checked >= CHECK_EVERY:
            checked = time.monotonic()
            if not _still_running(ctx):
                chunks.put_back(claim)
                raise Stop
        if not budget.left():
            break
        again = _send_one(ctx, clients, tally, budget, recipient_id)
        if again is not None:
            retry_at = max(retry_at or again, again)
    left = Recipient.objects.filter(
        campaign_id=ctx.campaign_id,
        id__gte=claim.first_id,
        id__lte=claim.last_id,
        state=State.PENDING,
    ).exists()
    if left:
        chunks.put_back(claim, not_before=retry_at)
    else:
        chunks.close(claim)


def _send_one(
    ctx: Context, clients: core.Clients, tally: Tally, budget: Budget, recipient_id: int
) -> datetime | None:
    """One SendChatappMessage; when a retryable refusal sends the recipient back, the time to
    try again."""
    started = _start_call(ctx, None, recipient_id, recipient_id, 1)
    if started is None:
        return None
    call_id, task_id, rows = started
    _, to, variables, payload = rows[0]
    params = ctx.shared_params(task_id)
    params |= {"Type": "template", "To": to}
    if variables not in EMPTY:
        params["TemplateParams"] = variables
    if payload not in EMPTY:
        params["Payload"] = payload
    client = clients.get(ctx.account)
    prepared = client.prepare(core.SEND, params)
    _wait_for_slot(ctx, budget, call_id, recipient_id, recipient_id)
    try:
        body = client.send(prepared)
        message_id = str(body.get("MessageId") or "")
        if not message_id:
            raise errors.CamsAmbiguous(errors.BAD_RESPONSE, "MessageId missing from an OK answer")
    except CamsError as exc:
        refusal = exc
        attempts = (
            Recipient.objects.filter(pk=recipient_id).values_list("attempts", flat=True).first()
            or 0
        )
        return _retrying(
            lambda: _record_error(
                ctx, call_id, recipient_id, recipient_id, refusal, attempts, tally
            )
        )
    _retrying(
        lambda: _record_accepted(
            ctx, call_id, recipient_id, recipient_id, body, None, message_id=message_id
        )
    )
    tally.add(accepted=1)
    return None
