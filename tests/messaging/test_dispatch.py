"""Sending's state machine against the sandbox: every error class ends in the right state,
nothing is sent twice or without a slot, and crashes are repaired by the sweeper."""

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from camsconsole.audit import Actor
from camsconsole.cams.client import CamsClient
from camsconsole.cams.sandbox import SandboxHandle
from camsconsole.models import AuditEvent
from messaging import actions, dispatch, ratelimit, sweeper
from messaging.models import Conversation, Kind, Message, State
from templates_app.models import Variant
from tests.messaging.conftest import USER, Deliver, RunJobs, Senders, redis_down_url


def queued(senders: Senders, template: Variant, to: str = USER, **fields: Any) -> Message:
    """A template message queued the way the Send Message page queues it."""
    values: dict[str, Any] = {
        "channel": senders.whatsapp.channel,
        "sender": senders.whatsapp,
        "to": to,
        "kind": Kind.TEMPLATE,
        "variant": template,
        "template_code": template.template_code,
        "template_name": template.template.name,
        "language": template.language,
        "template_params": {"1": "Alice", "2": "ORD-42"},
    }
    message = Message(**(values | fields))
    return actions.send(Actor(), message)


def free_form(senders: Senders, text: str = "Hello") -> Message:
    message = Message(
        channel=senders.whatsapp.channel,
        sender=senders.whatsapp,
        to=USER,
        kind=Kind.MESSAGE,
        message_type="text",
        content={"text": text},
    )
    return actions.send(Actor(), message)


def reload(message: Message) -> Message:
    return Message.objects.get(pk=message.pk)


@pytest.fixture
def quick_timeout(settings: Any) -> None:
    settings.CAMS_TIMEOUT = 0.5


def test_it_commits_sending_with_the_task_id_before_the_call(
    senders: Senders, template: Variant, sandbox: SandboxHandle, monkeypatch: Any
) -> None:
    message = queued(senders, template)
    seen: list[tuple[str, str]] = []
    original = CamsClient.call

    def spy(self: CamsClient, action: str, params: Any) -> Any:
        row = Message.objects.get(pk=message.pk)  # what another connection would see
        seen.append((row.state, row.task_id))
        return original(self, action, params)

    monkeypatch.setattr(CamsClient, "call", spy)
    dispatch.send_messages([message.pk])
    message = reload(message)
    assert seen == [(State.SENDING, message.task_id)]
    assert message.state == State.ACCEPTED
    assert message.attempts == 1
    assert sandbox.entry(message.message_id).task_id == message.task_id


def test_it_retries_a_throttled_send_later_and_slows_everyone_down(
    senders: Senders, template: Variant, sandbox: SandboxHandle, run_jobs: RunJobs
) -> None:
    message = queued(senders, template)
    sandbox.configure(throttle_storm=1.0)
    run_jobs_once(message)
    message = reload(message)
    assert message.state == State.PENDING
    assert message.error_code == "System.LimitControl"
    assert message.not_before is not None
    assert message.not_before > timezone.now()
    assert ratelimit.slowdown_factor(senders.account, dispatch.SEND) > 1
    assert sandbox.ledger()["messages"] == 0

    sandbox.configure(throttle_storm=0.0)
    Message.objects.filter(pk=message.pk).update(not_before=timezone.now())
    dispatch.send_messages([message.pk])
    message = reload(message)
    assert message.state == State.ACCEPTED
    assert message.attempts == 2
    assert message.error_code == ""
    assert sandbox.ledger()["messages"] == 1


def run_jobs_once(message: Message) -> None:
    dispatch.send_messages([message.pk])


def test_it_gives_up_after_many_retryable_failures(
    senders: Senders, template: Variant, sandbox: SandboxHandle
) -> None:
    message = queued(senders, template)
    sandbox.configure(throttle_storm=1.0)
    for _ in range(dispatch.MAX_ATTEMPTS):
        Message.objects.filter(pk=message.pk).update(not_before=None)
        dispatch.send_messages([message.pk])
    message = reload(message)
    assert message.state == State.FAILED
    assert message.error_message.startswith(f"Gave up after {dispatch.MAX_ATTEMPTS} attempts")


def test_it_retries_when_cams_cannot_be_reached(
    senders: Senders, template: Variant, sandbox: SandboxHandle
) -> None:
    account = senders.account
    account.endpoint = redis_down_url().replace("redis", "http").rsplit("/", 1)[0]
    account.save()
    message = queued(senders, template)
    dispatch.send_messages([message.pk])
    message = reload(message)
    assert message.state == State.PENDING
    assert message.error_code == "Client.Unreachable"
    assert "nothing was sent" in message.error_message


def test_it_fails_permanently_with_the_code_and_its_meaning(
    senders: Senders, template: Variant, sandbox: SandboxHandle
) -> None:
    message = queued(senders, template, template_code="0" * 32)
    dispatch.send_messages([message.pk])
    message = reload(message)
    assert message.state == State.FAILED
    assert message.error_code == "DetailError.TemplateNotExist"
    assert message.error_message.startswith("There is no template with this code.")
    assert message.response["Code"] == "DetailError.TemplateNotExist"
    assert message.failed_at is not None


@pytest.mark.usefixtures("quick_timeout")
def test_it_marks_a_hung_send_unknown_and_reconciles_it_from_receipts(
    senders: Senders,
    template: Variant,
    sandbox: SandboxHandle,
    deliver: Deliver,
    run_jobs: RunJobs,
) -> None:
    sandbox.configure(hang_ratio=1.0, fault_accept_ratio=1.0)
    message = queued(senders, template)
    run_jobs()
    message = reload(message)
    assert message.state == State.UNKNOWN
    assert message.error_code == "Client.Timeout"
    assert message.message_id == ""
    # CAMS did take it: its receipts carry our TaskId, and that settles the question.
    sandbox.configure(hang_ratio=0.0)
    deliver()
    run_jobs()
    message = reload(message)
    assert message.state == State.READ
    assert message.message_id
    assert message.error_code == ""
    assert message.reconciled_at is not None
    assert sandbox.ledger()["messages"] == 1


@pytest.mark.usefixtures("quick_timeout")
def test_it_never_resends_an_unknown_message_by_itself(
    senders: Senders, template: Variant, sandbox: SandboxHandle, run_jobs: RunJobs
) -> None:
    sandbox.configure(hang_ratio=1.0, fault_accept_ratio=0.0, receipts=False)
    message = queued(senders, template)
    run_jobs()
    sandbox.configure(hang_ratio=0.0)
    later = timezone.now() + timedelta(minutes=5)
    for _ in range(3):
        sweeper.sweep(later)
        run_jobs()
    message = reload(message)
    assert message.state == State.UNKNOWN
    assert "Not in CAMS's message history" in message.error_message
    assert sandbox.ledger()["messages"] == 0


@pytest.mark.usefixtures("quick_timeout")
def test_it_lets_an_operator_resend_an_unknown_message_once(
    senders: Senders,
    template: Variant,
    sandbox: SandboxHandle,
    run_jobs: RunJobs,
    operator_client: Client,
) -> None:
    sandbox.configure(error_5xx_ratio=1.0, fault_accept_ratio=0.0)
    message = queued(senders, template)
    run_jobs()
    message = reload(message)
    assert message.state == State.UNKNOWN
    assert message.error_code in {
        "InternalError",
        "ServiceUnavailable",
    }
    sandbox.configure(error_5xx_ratio=0.0)
    url = reverse("message-resend", args=[message.pk])
    assert operator_client.post(url).status_code == 302  # no confirmation: refused
    assert Message.objects.count() == 1
    response = operator_client.post(url, {"confirm": "1"})
    copy = Message.objects.exclude(pk=message.pk).get()
    assert response["Location"] == copy.get_absolute_url()
    assert copy.resend_of == message
    assert copy.task_id != message.task_id
    run_jobs()
    assert reload(copy).state == State.ACCEPTED
    assert reload(message).state == State.UNKNOWN
    again = operator_client.post(url, {"confirm": "1"}, follow=True)
    assert "already resent" in again.content.decode()
    assert Message.objects.count() == 2
    event = AuditEvent.objects.get(verb="message.resend")
    assert event.object_id == str(copy.pk)
    assert event.before["resend_of"] == message.pk


def test_it_refuses_to_resend_what_went_out(
    senders: Senders, template: Variant, sandbox: SandboxHandle
) -> None:
    message = queued(senders, template)
    dispatch.send_messages([message.pk])
    with pytest.raises(actions.Refused):
        actions.resend(Actor(), reload(message))


def test_it_sends_nothing_without_the_rate_limiter(
    senders: Senders, template: Variant, sandbox: SandboxHandle, settings: Any
) -> None:
    message = queued(senders, template)
    settings.REDIS_URL = redis_down_url()
    with pytest.raises(ratelimit.RateLimiterUnavailable):
        dispatch.send_messages([message.pk])
    message = reload(message)
    assert message.state == State.PENDING
    assert message.lease_until is None
    assert sandbox.ledger()["messages"] == 0


def test_it_keeps_a_send_when_redis_is_down_and_the_sweeper_rings_later(
    senders: Senders,
    template: Variant,
    sandbox: SandboxHandle,
    settings: Any,
    operator_client: Client,
    run_jobs: RunJobs,
) -> None:
    real = settings.REDIS_URL
    settings.REDIS_URL = redis_down_url()
    from tests.messaging.sending import template_post

    response = operator_client.post(
        reverse("message-send"), template_post(senders.whatsapp, USER, template)
    )
    assert response.status_code == 302
    run_jobs_commit(run_jobs, settings, real)
    message = Message.objects.get()
    assert message.state == State.PENDING
    sweeper.sweep(timezone.now() + sweeper.STALE_DOORBELL * 2)
    run_jobs()
    assert reload(message).state == State.ACCEPTED


def run_jobs_commit(run_jobs: RunJobs, settings: Any, real: str) -> None:
    """Commit (the on-commit enqueue fails quietly: Redis is down), then bring Redis back."""
    try:
        run_jobs()
    finally:
        settings.REDIS_URL = real


def test_it_honours_the_suppression_list_at_send_time(
    senders: Senders, template: Variant, sandbox: SandboxHandle
) -> None:
    message = queued(senders, template)
    actions.suppress(Actor(), senders.whatsapp, USER, "asked us to stop")
    dispatch.send_messages([message.pk])
    message = reload(message)
    assert message.state == State.SUPPRESSED
    assert message.error_code == dispatch.SUPPRESSED
    assert sandbox.ledger()["messages"] == 0


def test_it_checks_the_window_again_before_a_free_form_send(
    senders: Senders, sandbox: SandboxHandle
) -> None:
    wa = senders.whatsapp
    Conversation.objects.create(
        channel=wa.channel,
        business_number=wa.sender_id,
        user=USER,
        last_inbound_at=timezone.now() - timedelta(hours=23, minutes=59, seconds=30),
    )
    message = free_form(senders)
    dispatch.send_messages([message.pk])
    message = reload(message)
    assert message.state == State.FAILED
    assert message.error_code == dispatch.WINDOW_CLOSED
    assert "customer-service window closes at" in message.error_message
    assert sandbox.ledger()["messages"] == 0


def test_it_claims_each_due_row_once(senders: Senders, template: Variant) -> None:
    first, second = queued(senders, template), queued(senders, template, to="6590003333")
    Message.objects.filter(pk=second.pk).update(not_before=timezone.now() + timedelta(hours=1))
    assert dispatch.claim([first.pk, second.pk]) == [first.pk]
    assert dispatch.claim([first.pk, second.pk]) == []
    assert reload(first).state == State.CLAIMED
    assert reload(first).lease_until is not None


@pytest.mark.skipif(
    not connection.features.has_select_for_update_skip_locked, reason="PostgreSQL only"
)
@pytest.mark.django_db(transaction=True)
def test_it_skips_rows_another_worker_holds(senders: Senders, template: Variant) -> None:
    import threading

    from django.db import transaction

    rows = [queued(senders, template, to=f"659000{n:04d}") for n in range(4)]
    ids = [row.pk for row in rows]
    held = threading.Event()
    release = threading.Event()

    def other_worker() -> None:
        with transaction.atomic():
            list(Message.objects.select_for_update().filter(pk__in=ids[:2]))
            held.set()
            release.wait(10)
        connection.close()

    thread = threading.Thread(target=other_worker)
    thread.start()
    held.wait(10)
    try:
        assert dispatch.claim(ids) == ids[2:]  # no waiting for the locked rows
    finally:
        release.set()
        thread.join()


def test_it_turns_a_crash_mid_call_into_unknown_and_finds_the_message_in_cams(
    senders: Senders, template: Variant, sandbox: SandboxHandle, cams: CamsClient
) -> None:
    sandbox.configure(receipts=False)
    message = queued(senders, template)
    dispatch.claim([message.pk])
    Message.objects.filter(pk=message.pk).update(
        state=State.SENDING, sending_at=timezone.now(), lease_until=timezone.now()
    )
    # The call reached CAMS; then the worker died before storing the answer.
    sent = cams.send_message(
        channel_type="whatsapp",
        type="template",
        from_=senders.whatsapp.sender_id,
        to=USER,
        template_code=template.template_code,
        language="en",
        template_params={"1": "Alice", "2": "ORD-42"},
        task_id=message.task_id,
    )
    later = timezone.now() + timedelta(minutes=2)
    report = sweeper.sweep(later)
    assert report["sending_to_unknown"] == 1
    assert report["reconciled"] == 1
    message = reload(message)
    assert message.state == State.ACCEPTED
    assert message.message_id == sent.message_id
    assert message.response["ReconciledFrom"] == "ListChatappMessage"


def test_it_gives_back_a_claim_whose_worker_vanished(senders: Senders, template: Variant) -> None:
    message = queued(senders, template)
    dispatch.claim([message.pk])
    report = sweeper.sweep(timezone.now() + dispatch.CLAIM_LEASE * 2)
    assert report["claims_released"] == 1
    assert reload(message).state == State.PENDING


def test_it_leaves_a_row_another_worker_claimed_after_its_lease_ran_out(
    senders: Senders, template: Variant, sandbox: SandboxHandle
) -> None:
    message = queued(senders, template)
    stalled = timezone.now() - dispatch.CLAIM_LEASE * 2
    assert dispatch.claim([message.pk], stalled) == [message.pk]
    sweeper.release_expired_claims(timezone.now())
    assert dispatch.claim([message.pk]) == [message.pk]  # another worker's claim
    assert dispatch.send_claimed(message.pk, stalled) == State.CLAIMED
    assert sandbox.ledger()["messages"] == 0
