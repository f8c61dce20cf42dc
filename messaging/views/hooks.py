"""The receipt webhook CAMS pushes to: POST /hooks/cams/<token>/ (DESIGN.md, "Receipts").

Authenticate, then parse, then store, and answer at once: CAMS waits at most 3 seconds and
retries a push that got no `{"code": 0, ...}` (reference §6.6). The token is compared in constant
time against both of every channel's tokens (the current one and, during a rotation, the
previous one). The body is stored as it came in one INSERT; a job folds it in later, and when
Redis is down the sweeper finds the batch in the inbox. Our own failures (the database) are a
500, so that CAMS pushes again.
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.crypto import constant_time_compare
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from camsconsole.models import Channel
from messaging import queues, receipts
from messaging.models import ReceiptBatch

ACKNOWLEDGED = {"code": 0, "msg": "success"}


def authenticate(token: str) -> int | None:
    """The channel whose current or previous token this is; every token is compared, so the
    time taken does not depend on which one matches or how much of it."""
    found = None
    for pk, current, previous in Channel.objects.values_list(
        "pk", "hook_token", "hook_token_previous"
    ):
        matches = constant_time_compare(token, current)
        matches |= bool(previous) & constant_time_compare(token, previous)
        if matches and found is None:
            found = pk
    return found


def refuse(status: int, text: str) -> JsonResponse:
    return JsonResponse({"code": status, "msg": text}, status=status)


@csrf_exempt
@require_POST
def receipt_hook(request: HttpRequest, token: str) -> HttpResponse:
    """Public on purpose: CAMS has no login; the unguessable token is the credential."""
    channel_id = authenticate(token)
    if channel_id is None:
        return refuse(404, "unknown callback URL")
    limit = settings.RECEIPT_BODY_MAX_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return refuse(413, f"body larger than {limit} bytes")
    body = request.read(limit + 1)
    if len(body) > limit:
        return refuse(413, f"body larger than {limit} bytes")
    try:
        text = body.decode("utf-8")
        receipts.parse(text)
    except (UnicodeDecodeError, receipts.NotAnArray) as exc:
        return refuse(400, str(exc) if isinstance(exc, receipts.NotAnArray) else "not UTF-8")
    ReceiptBatch.objects.create(channel_id=channel_id, body=text)
    queues.ring_receipts()
    return JsonResponse(ACKNOWLEDGED)
