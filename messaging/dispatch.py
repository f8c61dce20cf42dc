"""Sending: PostgreSQL is the truth, RQ is the doorbell (DESIGN.md, "Sending").

A dispatch job gets message ids and, for each:

1. claims it: `pending` (and due) -> `claimed` with a lease. On PostgreSQL the rows are locked with
   SELECT ... FOR UPDATE SKIP LOCKED, so workers never wait for each other and never share a row.
   SQLite has no SKIP LOCKED; its transactions here take the write lock when they begin
   (transaction_mode IMMEDIATE), so a select-then-update claim is just as exclusive;
2. refuses without calling CAMS what must not go: a suppressed recipient (`suppressed`), a
   free-form WhatsApp message whose 24-hour window closed while it waited, a disabled sender;
3. waits for its slot from the shared rate limiter (Redis unreachable: the claim is released and
   the job fails; nothing is sent);
4. commits `sending`, with the TaskId and the request as it will be sent, *before* the call;
5. calls CAMS once and records the outcome with targeted updates that never undo what receipts
   already said: accepted (MessageId); retryable (throttled, or refused before sending) -> back to
   `pending` with a backoff; ambiguous (timeout, 5xx, broken connection) -> `unknown`, for the
   sweeper to reconcile and an operator to resend if it never went; anything else -> `failed`
   with CAMS's code and what it means.

A crash between 4 and 5 leaves `sending` behind; the sweeper turns it into `unknown` once the
lease runs out. Nothing here ever resends on its own what may have gone out.

Campaigns send their recipients with SendChatappMassMessage through the same limiter and the
same rules (messaging/campaigns/dispatch.py).
"""

import logging
import random
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from redis.exceptions import RedisError

from camsconsole.cams import errors
from camsconsole.cams.client import CamsClient
from camsconsole.cams.errors import CamsError, CamsThrottled
from camsconsole.models import Account
from messaging import queues, ratelimit, receipts, suppression, windows
from messaging.models import Message, State

logger = logging.getLogger(__name__)

SEND = "SendChatappMessage"
MASS_SEND = "SendChatappMassMessage"

# A claimed row must reach its call within this; a sending row's outcome is overdue after the
# client's timeout plus this.
CLAIM_LEASE = timedelta(seconds=120)
SENDING_GRACE = timedelta(seconds=60)
# Retryable failures are retried this many times in all, then the message fails.
MAX_ATTEMPTS = 8
BACKOFF_BASE = 1.0
BACKOFF_CAP = 60.0

# Our own codes for refusals made before any call, in the style of errors.py's "Client." codes.
SUPPRESSED = "Console.Suppressed"
WINDOW_CLOSED = "Console.WindowClosed"
DISABLED = "Console.SenderDisabled"
GAVE_UP = "Console.GaveUp"


def backoff(attempt: int) -> float:
    """Seconds before retry number `attempt` (1, 2, ...): exponential, capped, with jitter."""
    wait: float = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** max(0, attempt - 1))
    return wait * random.uniform(0.8, 1.2)


def sending_lease() -> timedelta:
    timeout = settings.CAMS_TIMEOUT
    longest = sum(timeout) if isinstance(timeout, tuple | list) else float(timeout)
    return timedelta(seconds=longest) + SENDING_GRACE


def mask_key(key_id: str) -> str:
    return f"{key_id[:4]}****{key_id[-4:]}" if len(key_id) > 8 else "****"


def request_record(account: Account, action: str, params: dict[str, Any]) -> dict[str, Any]:
    """The request as sent, for the message page: parameters, not credentials or signature."""
    return {
        "Action": action,
        "Endpoint": account.endpoint,
        "AccessKeyId": mask_key(account.access_key_id),
        "Parameters": params,
    }


def error_record(exc: CamsError) -> dict[str, Any]:
    return {
        "Code": exc.code,
        "Message": exc.message,
        "RequestId": exc.request_id,
        "HttpStatus": exc.http_status,
    }


# -- claiming -----------------------------------------------------------------------------------


def claim(ids: Iterable[int], now: datetime | None = None) -> list[int]:
    """Take the due pending rows among `ids` for this worker; the ids taken, in order.

    `now` becomes the rows' `claimed_at`, and doubles as the claim's token: a worker that stalls
    past its lease finds the row claimed again by someone else, with another time, and leaves it.
    """
    now = now or timezone.now()
    due = Message.objects.filter(pk__in=list(ids), state=State.PENDING).filter(
        Q(not_before__isnull=True) | Q(not_before__lte=now)
    )
    with transaction.atomic():
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        taken = sorted(due.values_list("pk", flat=True))
        if taken:
            Message.objects.filter(pk__in=taken, state=State.PENDING).update(
                state=State.CLAIMED, claimed_at=now, lease_until=now + CLAIM_LEASE
            )
    return taken


def release(ids: Sequence[int], claimed_at: datetime) -> None:
    """Give our claimed rows back untouched (nothing was sent)."""
    Message.objects.filter(pk__in=list(ids), state=State.CLAIMED, claimed_at=claimed_at).update(
        state=State.PENDING, lease_until=None
    )


def _refuse(ids: Sequence[int], claimed_at: datetime, state: str, code: str, text: str) -> None:
    now = timezone.now()
    stamp = {"failed_at": now} if state == State.FAILED else {}
    Message.objects.filter(pk__in=list(ids), state=State.CLAIMED, claimed_at=claimed_at).update(
        state=state, error_code=code, error_message=text, lease_until=None, **stamp
    )


def _refusal(message: Message) -> tuple[str, str, str] | None:
    """(state, code, text) if the message must not go out at all, or None."""
    sender = message.sender
    if not (sender.is_active and message.channel.is_active and message.channel.account.is_active):
        text = "The sender, its channel or its account was disabled before the message went out."
        return State.FAILED, DISABLED, text
    if suppression.is_suppressed(sender, message.to):
        text = "The recipient is on the suppression list of this number; nothing was sent."
        return State.SUPPRESSED, SUPPRESSED, text
    window = windows.refusal(sender, message.to, message.kind)
    if window:
        return State.FAILED, WINDOW_CLOSED, window + " Nothing was sent."
    return None


# -- single sends -------------------------------------------------------------------------------


class Clients:
    """One CamsClient per account for the length of a job (connection reuse)."""

    def __init__(self) -> None:
        self._clients: dict[int, CamsClient] = {}

    def get(self, account: Account) -> CamsClient:
        client = self._clients.get(account.pk)
        if client is None:
            client = self._clients[account.pk] = account.client()
        return client

    def close(self) -> None:
        for client in self._clients.values():
            client.close()


def send_messages(ids: Sequence[int]) -> None:
    """The dispatch job's work: send every due pending message among `ids`."""
    claimed_at = timezone.now()
    taken = claim(ids, claimed_at)
    clients = Clients()
    try:
        for position, message_id in enumerate(taken):
            try:
                send_claimed(message_id, claimed_at, clients)
            except ratelimit.RateLimiterUnavailable:
                release(taken[position:], claimed_at)
                raise
    finally:
        clients.close()


def send_claimed(message_id: int, claimed_at: datetime, clients: Clients | None = None) -> str:
    """Send one message this worker claimed at `claimed_at`; its state afterwards."""
    message = Message.objects.select_related("channel__account", "sender__channel").get(
        pk=message_id
    )
    if message.state != State.CLAIMED or message.claimed_at != claimed_at:
        return message.state  # not ours (any more)
    refused = _refusal(message)
    if refused is not None:
        _refuse([message.pk], claimed_at, *refused)
        return refused[0]
    account = message.channel.account
    ratelimit.acquire(account, SEND)
    params = message.api_params()
    now = timezone.now()
    started = Message.objects.filter(
        pk=message.pk, state=State.CLAIMED, claimed_at=claimed_at
    ).update(
        state=State.SENDING,
        sending_at=now,
        lease_until=now + sending_lease(),
        attempts=F("attempts") + 1,
        request=request_record(account, SEND, params),
    )
    if not started:
        return State.PENDING  # the lease ran out and the sweeper took the row back
    own = clients or Clients()
    try:
        body = own.get(account).call(SEND, params)
        cams_id = str(body.get("MessageId") or "")
        if not cams_id:
            # Code was OK, so CAMS acted; without the id the outcome cannot be followed.
            raise errors.CamsAmbiguous(
                errors.BAD_RESPONSE, "MessageId missing from an OK answer", request_id=None
            )
    except CamsError as exc:
        return record_error([message.pk], exc, account, SEND)
    finally:
        if clients is None:
            own.close()
    record_accepted([message.pk], body, message_id=cams_id)
    return State.ACCEPTED


# -- outcomes -----------------------------------------------------------------------------------


def record_accepted(ids: Sequence[int], body: dict[str, Any], *, message_id: str = "") -> None:
    """CAMS took the call. Receipts may already have moved the rows on; never move them back."""
    now = timezone.now()
    rows = Message.objects.filter(pk__in=list(ids))
    values: dict[str, Any] = {
        "request_id": str(body.get("RequestId") or ""),
        "response": body,
        "accepted_at": now,
        "lease_until": None,
        "error_code": "",
        "error_message": "",
    }
    if message_id:
        values["message_id"] = message_id
    with transaction.atomic():
        rows.filter(state__in=(State.SENDING, State.UNKNOWN)).update(state=State.ACCEPTED, **values)
        rows.filter(accepted_at__isnull=True).update(**values)
    receipts.attach_unmatched(list(ids))


def record_error(ids: Sequence[int], exc: CamsError, account: Account, operation: str) -> str:
    """Store what went wrong and decide what happens next; the rows' new state."""
    now = timezone.now()
    rows = Message.objects.filter(pk__in=list(ids), state=State.SENDING)
    common = {
        "response": error_record(exc),
        "request_id": exc.request_id or "",
        "error_code": exc.code,
        "error_message": f"{exc.plain} ({exc.message})" if exc.message else exc.plain,
        "lease_until": None,
    }
    if exc.retryable:
        if isinstance(exc, CamsThrottled) or errors.is_throttling(exc.code):
            ratelimit.slow_down(account, operation)
        attempts = max(rows.values_list("attempts", flat=True), default=0)
        if attempts >= MAX_ATTEMPTS:
            common["error_message"] = (
                f"Gave up after {attempts} attempts: {common['error_message']}"
            )
            rows.update(state=State.FAILED, failed_at=now, **common)
            return State.FAILED
        hint = exc.retry_after if isinstance(exc, CamsThrottled) else None
        wait = max(hint or 0.0, backoff(attempts))
        due = now + timedelta(seconds=wait)
        rows.update(state=State.PENDING, not_before=due, enqueued_at=due, **common)
        try:
            queues.enqueue_dispatch("messaging.jobs.send", list(ids), delay=wait)
        except RedisError:
            logger.warning("retry of %s not scheduled; the sweeper will ring", list(ids))
        return State.PENDING
    if exc.ambiguous:
        rows.update(state=State.UNKNOWN, unknown_at=now, **common)
        return State.UNKNOWN
    rows.update(state=State.FAILED, failed_at=now, **common)
    return State.FAILED
