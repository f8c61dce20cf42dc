"""The receipt webhook and the folding-in of every receipt kind and status."""

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from camsconsole import actions as core_actions
from camsconsole.audit import Actor
from camsconsole.embedded_redis import embedded_redis
from camsconsole.models import AuditEvent, Channel
from messaging import dispatch, queues, receipts, sweeper
from messaging.models import (
    Conversation,
    InboundMessage,
    Kind,
    Message,
    ReceiptBatch,
    State,
    StatusEvent,
    Suppression,
)
from templates_app.models import Status, Template, Variant
from tests.messaging.conftest import (
    USER,
    VIBER_SERVICE,
    WA_NUMBER,
    RunJobs,
    Senders,
    all_queues,
    fixture,
    hook_path,
    post_hook,
    redis_down_url,
)

ACK = {"code": 0, "msg": "success"}
FIXTURE_TASK = "0b6f2c44-6a1e-4d55-9d3e-2f1f6c0a8e11"
FIXTURE_ID = "5f3a9c1e00000000000004d2"


@pytest.fixture
def wa(senders: Senders) -> Channel:
    return senders.whatsapp.channel


def accepted(senders: Senders, message_id: str = FIXTURE_ID, **fields: Any) -> Message:
    """A template message CAMS accepted, as the fixtures' receipts describe it."""
    values: dict[str, Any] = {
        "channel": senders.whatsapp.channel,
        "sender": senders.whatsapp,
        "to": USER,
        "kind": Kind.TEMPLATE,
        "template_code": "744c4b5c79c9432497a075bdfca3a1b2",
        "language": "en",
        "task_id": FIXTURE_TASK,
        "message_id": message_id,
        "state": State.ACCEPTED,
        "accepted_at": timezone.now(),
    }
    return Message.objects.create(**(values | fields))


def reload(message: Message) -> Message:
    return Message.objects.get(pk=message.pk)


# -- the webhook ---------------------------------------------------------------------------------


def test_it_stores_a_push_in_one_insert_and_acknowledges_at_once(
    client: Client, wa: Channel, django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(2):  # the token lookup and the insert
        response = post_hook(client, wa, fixture("chatappstatus_sent"))
    assert response.status_code == 200
    assert response.json() == ACK
    batch = ReceiptBatch.objects.get()
    assert json.loads(batch.body) == fixture("chatappstatus_sent")
    assert batch.channel == wa
    assert batch.processed_at is None


def test_it_answers_404_to_a_wrong_token_and_stores_nothing(client: Client, wa: Channel) -> None:
    response = client.post(
        "/hooks/cams/not-a-token/", json.dumps([]), content_type="application/json"
    )
    assert response.status_code == 404
    wrong = wa.hook_token[:-1] + ("A" if wa.hook_token[-1] != "A" else "B")
    response = client.post(
        f"/hooks/cams/{wrong}/", json.dumps(fixture("chatappstatus_sent")), "application/json"
    )
    assert response.status_code == 404
    assert not ReceiptBatch.objects.exists()


def test_it_takes_the_previous_token_until_the_next_rotation(client: Client, wa: Channel) -> None:
    old_path = hook_path(wa)
    core_actions.rotate_hook_token(Actor(), wa)
    wa.refresh_from_db()
    assert post_hook(client, wa, []).status_code == 200
    assert client.post(old_path, "[]", "application/json").status_code == 200
    core_actions.rotate_hook_token(Actor(), wa)
    assert client.post(old_path, "[]", "application/json").status_code == 404
    assert AuditEvent.objects.filter(verb="channel.rotate_token").count() == 2


@pytest.mark.parametrize(
    "body", [b"{not json", b'{"MessageId": "x"}', b'"Sent"', b"", b"\xff\xfe[]"]
)
def test_it_refuses_a_body_that_is_not_a_json_array(
    body: bytes, client: Client, wa: Channel, run_jobs: RunJobs
) -> None:
    response = post_hook(client, wa, body)
    assert response.status_code == 400
    assert not ReceiptBatch.objects.exists()
    run_jobs()
    assert not StatusEvent.objects.exists()


def test_it_refuses_an_oversized_body_with_413(client: Client, wa: Channel, settings: Any) -> None:
    settings.RECEIPT_BODY_MAX_BYTES = 1000
    events = fixture("chatappstatus_sent") * 5
    assert len(json.dumps(events)) > 1000
    response = post_hook(client, wa, events)
    assert response.status_code == 413
    assert not ReceiptBatch.objects.exists()
    assert post_hook(client, wa, fixture("chatappstatus_sent")).status_code == 200


def test_it_only_takes_posts(client: Client, wa: Channel) -> None:
    assert client.get(hook_path(wa)).status_code == 405


def test_it_acknowledges_and_keeps_receipts_while_redis_is_down(
    client: Client, senders: Senders, settings: Any, run_jobs: RunJobs
) -> None:
    message = accepted(senders)
    real = settings.REDIS_URL
    settings.REDIS_URL = redis_down_url()
    started = time.monotonic()
    response = post_hook(client, senders.whatsapp.channel, fixture("chatappstatus_delivered"))
    assert response.status_code == 200
    assert response.json() == ACK
    assert time.monotonic() - started < 1.0
    settings.REDIS_URL = real
    assert ReceiptBatch.objects.filter(processed_at__isnull=True).count() == 1
    run_jobs()
    assert reload(message).state == State.ACCEPTED  # no doorbell rang
    report = sweeper.sweep(timezone.now() + sweeper.INBOX_GRACE * 2)
    assert report["batches_rung"] == 1
    run_jobs()
    assert reload(message).state == State.DELIVERED


def test_it_acknowledges_when_a_running_redis_goes_away(
    client: Client, senders: Senders, settings: Any, run_jobs: RunJobs
) -> None:
    message = accepted(senders)
    real = settings.REDIS_URL
    with embedded_redis(6398) as url:
        settings.REDIS_URL = url
        assert post_hook(client, senders.whatsapp.channel, fixture("chatappstatus_sent")).json()
        assert queues.queue(queues.RECEIPTS).count == 1
    # That Redis (and the job in it) is gone now: receipts keep coming.
    response = post_hook(client, senders.whatsapp.channel, fixture("chatappstatus_read"))
    assert response.status_code == 200
    assert response.json() == ACK
    settings.REDIS_URL = real
    assert ReceiptBatch.objects.filter(processed_at__isnull=True).count() == 2
    sweeper.sweep(timezone.now() + sweeper.INBOX_GRACE * 2)
    run_jobs()
    message = reload(message)
    assert message.state == State.READ
    assert message.sent_at is not None
    assert message.read_at is not None


def test_it_rings_once_for_many_pushes(client: Client, wa: Channel, run_jobs: RunJobs) -> None:
    for _ in range(5):
        post_hook(client, wa, fixture("chatappstatus_sent"))
    assert queues.queue(queues.RECEIPTS).count == 1
    run_jobs()
    assert not ReceiptBatch.objects.filter(processed_at__isnull=True).exists()
    post_hook(client, wa, fixture("chatappstatus_read"))
    assert queues.queue(queues.RECEIPTS).count == 1  # the job cleared the doorbell


# -- ChatAppStatus --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "state"),
    [
        ("chatappstatus_sent", State.SENT),
        ("chatappstatus_delivered", State.DELIVERED),
        ("chatappstatus_read", State.READ),
        ("chatappstatus_deleted", State.ACCEPTED),
    ],
)
def test_it_applies_each_status(
    name: str, state: str, client: Client, senders: Senders, run_jobs: RunJobs
) -> None:
    message = accepted(senders)
    post_hook(client, senders.whatsapp.channel, fixture(name))
    run_jobs()
    message = reload(message)
    assert message.state == state
    assert message.events.count() == 1


def test_it_fails_a_message_with_the_providers_code(
    client: Client, senders: Senders, run_jobs: RunJobs
) -> None:
    message = accepted(senders, message_id="5f3a9c1e00000000000004d3", to="6590003333")
    post_hook(client, senders.whatsapp.channel, fixture("chatappstatus_failed"))
    run_jobs()
    message = reload(message)
    assert message.state == State.FAILED
    assert message.error_code == "131026"
    assert message.error_message == "131026:Receiver is incapable of receiving this message"
    assert message.failed_at == datetime.fromtimestamp(1736929800.377, tz=UTC)


def test_it_fails_a_free_form_message_outside_the_window(
    client: Client, senders: Senders, run_jobs: RunJobs
) -> None:
    message = accepted(
        senders,
        message_id="5f3a9c1e00000000000004d4",
        task_id="5f3a9c1e00000000000004d4",
        to="6590004444",
        kind=Kind.MESSAGE,
        message_type="text",
    )
    post_hook(client, senders.whatsapp.channel, fixture("chatappstatus_failed_outside_window"))
    run_jobs()
    message = reload(message)
    assert (message.state, message.error_code) == (State.FAILED, "131047")


def test_it_compares_status_names_in_any_case(
    client: Client, senders: Senders, run_jobs: RunJobs
) -> None:
    message = accepted(senders)
    post_hook(
        client, senders.whatsapp.channel, fixture("chatappstatus_delivered", Status="DELIVERED")
    )
    run_jobs()
    assert reload(message).state == State.DELIVERED


def test_it_never_moves_a_message_back(client: Client, senders: Senders, run_jobs: RunJobs) -> None:
    message = accepted(senders)
    channel = senders.whatsapp.channel
    post_hook(client, channel, fixture("chatappstatus_read"))
    run_jobs()
    post_hook(client, channel, fixture("chatappstatus_sent") + fixture("chatappstatus_delivered"))
    post_hook(client, channel, fixture("chatappstatus_read"))  # a duplicate
    run_jobs()
    message = reload(message)
    assert message.state == State.READ
    assert message.events.count() == 3
    # The late ones still fill in when the message was sent and delivered.
    assert message.sent_at
    assert message.delivered_at
    assert message.read_at
    assert message.sent_at < message.delivered_at < message.read_at


def test_it_keeps_failed_terminal(client: Client, senders: Senders, run_jobs: RunJobs) -> None:
    message = accepted(senders)
    failed = fixture("chatappstatus_failed", MessageId=FIXTURE_ID, TaskId=FIXTURE_TASK, To=USER)
    post_hook(client, senders.whatsapp.channel, failed)
    run_jobs()
    post_hook(client, senders.whatsapp.channel, fixture("chatappstatus_read"))
    run_jobs()
    message = reload(message)
    assert message.state == State.FAILED
    assert message.error_code == "131026"


def test_it_keeps_events_for_unknown_ids_and_matches_them_when_the_message_appears(
    client: Client, senders: Senders, run_jobs: RunJobs
) -> None:
    foreign = fixture("chatappstatus_read", TaskId="not-ours")
    post_hook(client, senders.whatsapp.channel, foreign)
    run_jobs()
    event = StatusEvent.objects.get()
    assert event.message is None
    assert event.status == 4
    # The send's own answer comes in only now (it was slow): the stored Read is taken up.
    message = accepted(senders, message_id="", task_id="ours", state=State.SENDING)
    dispatch.record_accepted(
        [message.pk], {"RequestId": "r", "MessageId": FIXTURE_ID}, message_id=FIXTURE_ID
    )
    message = reload(message)
    assert message.state == State.READ
    assert StatusEvent.objects.get().message == message


def test_it_matches_by_task_id_and_recipient_before_the_message_id_is_known(
    client: Client, senders: Senders, run_jobs: RunJobs
) -> None:
    # The receipt beat the send's answer: the row is still `sending`, without a MessageId.
    message = accepted(senders, message_id="", state=State.SENDING)
    post_hook(client, senders.whatsapp.channel, fixture("chatappstatus_sent"))
    run_jobs()
    message = reload(message)
    assert message.state == State.SENT
    assert message.message_id == FIXTURE_ID
    # The answer arriving now does not move it back.
    dispatch.record_accepted([message.pk], {"RequestId": "r"}, message_id=FIXTURE_ID)
    assert reload(message).state == State.SENT


def test_it_matches_only_within_the_channel_that_pushed(
    client: Client, senders: Senders, run_jobs: RunJobs
) -> None:
    message = accepted(senders)
    post_hook(client, senders.viber.channel, fixture("chatappstatus_read"))
    run_jobs()
    assert reload(message).state == State.ACCEPTED


def test_it_folds_a_large_push_of_mass_receipts_in_one_pass(
    client: Client, senders: Senders, run_jobs: RunJobs, django_assert_max_num_queries: Any
) -> None:
    users = [f"659100{n:04d}" for n in range(100)]
    rows = Message.objects.bulk_create(
        [
            Message(
                channel=senders.whatsapp.channel,
                sender=senders.whatsapp,
                to=user,
                kind=Kind.TEMPLATE,
                task_id="campaign-call-1",
                group_message_id="g1",
                state=State.ACCEPTED,
            )
            for user in users
        ]
    )
    events = [
        fixture("chatappstatus_delivered", MessageId=f"m{n}", TaskId="campaign-call-1", To=user)[0]
        for n, user in enumerate(users)
    ]
    post_hook(client, senders.whatsapp.channel, events)
    batch = list(ReceiptBatch.objects.all())
    with django_assert_max_num_queries(12):
        receipts.fold_in(batch)
    assert {m.state for m in Message.objects.filter(pk__in=[r.pk for r in rows])} == {
        State.DELIVERED
    }
    assert Message.objects.get(to=users[7]).message_id == "m7"


def test_it_sets_a_poison_batch_aside_and_folds_in_the_rest(
    client: Client, senders: Senders, run_jobs: RunJobs, monkeypatch: Any
) -> None:
    message = accepted(senders)
    post_hook(client, senders.whatsapp.channel, fixture("chatappinbound_text"))
    post_hook(client, senders.whatsapp.channel, fixture("chatappstatus_read"))
    original = receipts.apply_inbound

    def broken(messages: Any) -> int:
        if messages:
            raise RuntimeError("our bug")
        return original(messages)

    monkeypatch.setattr(receipts, "apply_inbound", broken)
    run_jobs()
    poisoned = ReceiptBatch.objects.order_by("pk").first()
    assert poisoned is not None
    assert poisoned.error.startswith("RuntimeError: our bug")
    assert reload(message).state == State.READ


@pytest.fixture
def one_message(senders: Senders) -> Message:
    return accepted(senders)


STATUSES = ["Sent", "Delivered", "Read", "Failed", "Deleted"]


@hypothesis_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    statuses=st.lists(st.sampled_from(STATUSES), min_size=1, max_size=8),
    data=st.data(),
)
def test_it_ends_in_the_same_status_whatever_the_order_and_duplicates(
    statuses: list[str], data: st.DataObject, senders: Senders
) -> None:
    Message.objects.all().delete()
    StatusEvent.objects.all().delete()
    message = accepted(senders)
    events = [
        fixture("chatappstatus_sent", Status=status, Timestamp=1736929800000 + rank * 1000)[0]
        | ({"ErrorCode": "131026"} if status == "Failed" else {})
        for rank, status in enumerate(statuses)
    ]
    pushed = data.draw(st.permutations(events + data.draw(st.lists(st.sampled_from(events)))))
    sizes = data.draw(st.lists(st.integers(1, 4), min_size=len(pushed), max_size=len(pushed)))
    start = 0
    for size in sizes:  # in pushes of random sizes, each folded in on its own
        chunk = pushed[start : start + size]
        start += size
        if chunk:
            batch = ReceiptBatch.objects.create(
                channel=senders.whatsapp.channel, body=json.dumps(chunk)
            )
            receipts.fold_in([batch])
    ranks = {"Deleted": 0, "Sent": 2, "Delivered": 3, "Read": 4, "Failed": 5}
    expected = {0: State.ACCEPTED, 2: State.SENT, 3: State.DELIVERED, 4: State.READ}.get(
        max(ranks[s] for s in statuses), State.FAILED
    )
    message = reload(message)
    assert message.state == expected
    assert message.events.count() == len(set(statuses))


# -- ChatAppInbound -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind", "text"),
    [
        ("chatappinbound_text", "TEXT", "Where is my order?"),
        ("chatappinbound_image", "IMAGE", "the box arrived damaged"),
        ("chatappinbound_video", "VIDEO", "unboxing.mp4"),
        ("chatappinbound_audio", "AUDIO", "voice.ogg"),
        ("chatappinbound_document", "DOCUMENT", "invoice-2025-01.pdf"),
        ("chatappinbound_location", "LOCATION", "One Raffles Place"),
        ("chatappinbound_contacts", "CONTACTS", "Bob Lim"),
        ("chatappinbound_reply", "REPLY", "Track order"),
        ("chatappinbound_system", "SYSTEM", "User changed their number"),
    ],
)
def test_it_stores_each_inbound_type_and_opens_the_window(
    name: str, kind: str, text: str, client: Client, wa: Channel, run_jobs: RunJobs
) -> None:
    events = fixture(name)
    moment = timezone.now() - timedelta(hours=1)
    events[0]["Timestamp" if "Timestamp" in events[0] else "Timestamp "] = int(
        moment.timestamp() * 1000
    )
    post_hook(client, wa, events)
    run_jobs()
    inbound = InboundMessage.objects.get()
    assert (inbound.type, inbound.text, inbound.user) == (kind, text, USER)
    assert inbound.business_number == WA_NUMBER
    assert abs((inbound.occurred_at - moment).total_seconds()) < 0.01
    conversation = Conversation.objects.get()
    assert conversation.last_inbound == inbound
    assert conversation.window_open
    assert conversation.display_name == "Alice Tan"
    if kind in {"IMAGE", "VIDEO", "AUDIO", "DOCUMENT"}:
        assert inbound.media_url.startswith("https://example.com/media/")
        assert inbound.media_expires_at == inbound.occurred_at + timedelta(days=7)
    else:
        assert inbound.media_expires_at is None
    if kind == "REPLY":
        assert inbound.payload == "track_ORD-42"


def test_it_keeps_an_inbound_message_once_and_never_moves_the_window_back(
    client: Client, wa: Channel, run_jobs: RunJobs
) -> None:
    now = timezone.now()
    newer = fixture("chatappinbound_text", Timestamp=int(now.timestamp() * 1000))
    older = fixture(
        "chatappinbound_reply", Timestamp=int((now - timedelta(hours=3)).timestamp() * 1000)
    )
    post_hook(client, wa, newer)
    post_hook(client, wa, newer + older)
    run_jobs()
    assert InboundMessage.objects.count() == 2
    conversation = Conversation.objects.get()
    assert conversation.last_inbound is not None
    assert conversation.last_inbound.type == "TEXT"
    assert abs((conversation.last_inbound_at - now).total_seconds()) < 0.01


# -- Viber subscriptions, ChatAppAudit -----------------------------------------------------------


def test_it_keeps_the_suppression_list_from_viber_receipts(
    client: Client, senders: Senders, run_jobs: RunJobs
) -> None:
    viber = senders.viber.channel
    post_hook(client, viber, fixture("chatappstatus_viber_unsubscribe"))
    run_jobs()
    entry = Suppression.objects.get()
    assert (entry.business_number, entry.user, entry.active) == (VIBER_SERVICE, "6590005555", True)
    assert entry.source == Suppression.Source.RECEIPT
    # Arriving late, the older unsubscribe does not undo the newer subscribe.
    post_hook(client, viber, fixture("chatappstatus_viber_subscribe"))
    post_hook(client, viber, fixture("chatappstatus_viber_unsubscribe"))
    run_jobs()
    entry.refresh_from_db()
    assert entry.active is False
    verbs = list(
        AuditEvent.objects.filter(object_type="suppression")
        .order_by("pk")
        .values_list("verb", "actor_label")
    )
    assert verbs == [("suppression.add", "system"), ("suppression.lift", "system")]
    assert not StatusEvent.objects.exists()


def test_it_hands_template_reviews_to_template_design(
    client: Client, senders: Senders, run_jobs: RunJobs
) -> None:
    template = Template.objects.create(
        channel=senders.whatsapp.channel, name="order_update", category="UTILITY"
    )
    variant = Variant.objects.create(
        template=template,
        language="en",
        template_code="744c4b5c79c9432497a075bdfca3a1b2",
        status=Status.AUDITING,
    )
    post_hook(client, senders.whatsapp.channel, fixture("chatappaudit_pass"))
    run_jobs()
    variant.refresh_from_db()
    assert variant.status == Status.PASS


def test_it_sorts_a_mixed_push_by_kind(client: Client, senders: Senders, run_jobs: RunJobs) -> None:
    message = accepted(senders)
    mixed = (
        fixture("chatappstatus_delivered")
        + fixture("chatappinbound_text")
        + fixture("chatappaudit_pass")
        + [{"Something": "else"}, "not an object"]
    )
    post_hook(client, senders.whatsapp.channel, mixed)
    run_jobs()
    assert reload(message).state == State.DELIVERED
    assert InboundMessage.objects.count() == 1
    assert ReceiptBatch.objects.get().processed_at is not None


def test_it_prunes_processed_batches_after_the_retention(
    client: Client, wa: Channel, run_jobs: RunJobs, settings: Any
) -> None:
    post_hook(client, wa, [])
    run_jobs()
    settings.RECEIPT_RETENTION_DAYS = 1
    assert sweeper.sweep(timezone.now() + timedelta(days=2))["batches_deleted"] == 1
    assert all_queues()
