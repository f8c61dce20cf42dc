"""Small-scale proofs of the campaign's promises (bench/chaos.py repeats them at scale): workers
dying at any point, Redis lost and flushed, receipts arriving twice, late or out of order, and
counters that stay exact through all of it."""

import random
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from camsconsole.audit import Actor
from camsconsole.cams.client import CamsClient
from camsconsole.cams.sandbox import SandboxHandle
from camsconsole.embedded_redis import embedded_redis
from messaging import queues, sweeper
from messaging.campaigns import actions, chunks, counters, dispatch, imports
from messaging.campaigns import receipts as campaign_receipts
from messaging.campaigns.models import (
    Campaign,
    CampaignCall,
    CampaignChunk,
    CampaignImport,
    Recipient,
)
from messaging.models import State, StatusEvent
from templates_app.models import Variant
from tests.campaigns.conftest import (
    MAPPING,
    Deliver,
    RunJobs,
    Senders,
    csv_bytes,
    import_file,
    make_campaign,
    people,
    upload,
)
from tests.campaigns.test_dispatch import ledger, ready, states, true_states
from tests.messaging.conftest import redis_down_url


class Killed(BaseException):
    """kill -9, as far as the code under test can tell: nothing after it runs."""


def test_it_settles_recipients_of_a_worker_that_died_after_cams_took_the_call(
    senders: Senders,
    template: Variant,
    sandbox: SandboxHandle,
    run_jobs: RunJobs,
    deliver: Deliver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    campaign = ready(senders, template, run_jobs, 5)
    actions.launch(Actor(), campaign)
    campaign.refresh_from_db()
    original = CamsClient.send

    def dies_after(self: CamsClient, prepared: Any) -> Any:
        original(self, prepared)
        raise Killed

    monkeypatch.setattr(CamsClient, "send", dies_after)
    with pytest.raises(Killed):
        dispatch.send(campaign.pk, campaign.run)
    monkeypatch.undo()
    assert states(campaign) == {State.SENDING: 5}
    later = timezone.now() + timedelta(minutes=2)
    # The call's lease runs out: unknown; CAMS's history shows it: accepted (one sweep does both).
    from messaging.campaigns import sweep as campaign_sweep

    assert campaign_sweep.expire_calls(later) == 5
    assert states(campaign) == {State.UNKNOWN: 5}
    assert Recipient.objects.filter(campaign=campaign).first().error_code == "Console.WorkerLost"
    sweeper.sweep(later)
    assert states(campaign) == {State.ACCEPTED: 5}
    assert CampaignCall.objects.get(campaign=campaign).reconciled_at is not None
    # CAMS had it: the receipts (TaskId, To) settle every recipient, nothing is sent again.
    deliver()
    run_jobs()
    assert states(campaign) == {State.READ: 5}
    sweeper.sweep(timezone.now() + timedelta(minutes=3))
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.COMPLETED
    assert ledger(sandbox)["messages"] == 5
    assert ledger(sandbox)["duplicates"] == 0


def test_it_needs_no_sweeper_when_its_own_jobs_find_a_dead_claim(
    senders: Senders, template: Variant, sandbox: SandboxHandle, run_jobs: RunJobs
) -> None:
    campaign = ready(senders, template, run_jobs, 8, batch_size=4)
    actions.launch(Actor(), campaign)
    campaign.refresh_from_db()
    dead = chunks.claim(campaign.pk, campaign.run)  # a worker claims and dies before any call
    assert dead is not None
    run_jobs()  # the other chunk goes; this one waits for its lease
    assert states(campaign) == {State.ACCEPTED: 4, State.PENDING: 4}
    CampaignChunk.objects.filter(pk=dead.chunk_id).update(
        lease_until=timezone.now() - timedelta(seconds=1)
    )
    assert dispatch.send(campaign.pk, campaign.run) == "done"
    assert states(campaign) == {State.ACCEPTED: 8}
    assert ledger(sandbox)["duplicates"] == 0


def test_it_completes_only_once_a_dead_workers_call_is_settled(
    senders: Senders,
    template: Variant,
    sandbox: SandboxHandle,
    run_jobs: RunJobs,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    campaign = ready(senders, template, run_jobs, 5)
    actions.launch(Actor(), campaign)
    campaign.refresh_from_db()

    def dies_before(self: CamsClient, prepared: Any) -> Any:
        raise Killed

    monkeypatch.setattr(CamsClient, "send", dies_before)
    with pytest.raises(Killed):
        dispatch.send(campaign.pk, campaign.run)
    monkeypatch.undo()
    # The chunk's claim runs out before the call's lease: another job takes the chunk back,
    # finds no one pending in it and closes it. The call is still in flight.
    past = timezone.now() - timedelta(seconds=1)
    CampaignChunk.objects.filter(campaign=campaign).update(lease_until=past)
    dispatch.send(campaign.pk, campaign.run, budget=0.5)
    assert not dispatch.maybe_complete(campaign.pk, campaign.run)  # as the sweeper asks
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.RUNNING
    assert states(campaign) == {State.SENDING: 5}
    # Its lease runs out: its recipients are unknown, and only now is the campaign complete.
    CampaignCall.objects.filter(campaign=campaign).update(lease_until=past)
    assert dispatch.send(campaign.pk, campaign.run, budget=0.5) == "done"
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.COMPLETED
    assert states(campaign) == {State.UNKNOWN: 5}
    assert ledger(sandbox)["messages"] == 0


def test_it_survives_redis_restarted_empty_in_the_middle(
    senders: Senders,
    template: Variant,
    sandbox: SandboxHandle,
    run_jobs: RunJobs,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    campaign = ready(senders, template, run_jobs, 30, batch_size=10)
    port = int(redis_down_url().rsplit(":", 1)[1].split("/")[0])
    with embedded_redis(port) as url:
        settings.REDIS_URL = url
        actions.launch(Actor(), campaign)  # its jobs go to the throwaway Redis, never run
        campaign.refresh_from_db()
        claim = chunks.claim(campaign.pk, campaign.run)
        assert claim is not None
        ctx = dispatch.context(campaign.pk, campaign.run)
        assert ctx is not None
        dispatch._mass_chunk(
            ctx, claim, dispatch.core.Clients(), dispatch.Tally(1), dispatch.Budget(1, 5)
        )
    # Redis is gone: nothing may be sent, nothing is lost.
    settings.REDIS_URL = redis_down_url()
    monkeypatch.setattr(dispatch, "HAND_OVER_SECONDS", 0.0)
    assert dispatch.send(campaign.pk, campaign.run, budget=0.5) == "later"
    assert states(campaign) == {State.ACCEPTED: 10, State.PENDING: 20}
    with embedded_redis(port) as url:  # back, and empty: jobs, schedule and sweeper chain gone
        settings.REDIS_URL = url
        queues._clients.clear()
        with django_capture_on_commit_callbacks(execute=True):
            report = sweeper.sweep(timezone.now() + timedelta(minutes=5))
        assert report["campaign_stalled_kicked"] == 1
        assert queues.queue(queues.DISPATCH).count == 1  # the kicked job, in the new Redis
        assert dispatch.send(campaign.pk, campaign.run) == "done"
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.COMPLETED
    assert states(campaign) == {State.ACCEPTED: 30}
    assert ledger(sandbox) == {
        "messages": 30,
        "duplicates": 0,
        "calls": {"SendChatappMassMessage": 3},
    }


def test_it_applies_receipts_once_late_or_out_of_order(
    senders: Senders, template: Variant, sandbox: SandboxHandle, run_jobs: RunJobs
) -> None:
    campaign = launch_ready(senders, template, run_jobs, 3)
    call = CampaignCall.objects.get(campaign=campaign)
    channel = campaign.channel_id
    now = timezone.now()

    def event(to: str, status: int, minutes: int, **extra: Any) -> StatusEvent:
        return StatusEvent(
            channel_id=channel,
            cams_message_id=f"m-{to}",
            task_id=call.task_id,
            to=to,
            status=status,
            occurred_at=now + timedelta(minutes=minutes),
            **extra,
        )

    first, second, third = "6590000000", "6590000001", "6590000002"
    batch = [
        event(first, 4, 3),  # Read before Sent
        event(first, 2, 1),
        event(first, 4, 3),  # twice
        event(second, 5, 2, error_code="131026", error_description="131026:Receiver incapable"),
        event(second, 3, 1),  # a late Delivered after Failed
        event(third, 2, 1),
    ]
    assert campaign_receipts.apply(batch) == []
    first_row = Recipient.objects.get(campaign=campaign, to=first)
    assert first_row.state == State.READ
    assert first_row.read_at == now + timedelta(minutes=3)
    assert first_row.sent_at == now + timedelta(minutes=1)
    assert first_row.message_id == f"m-{first}"
    second_row = Recipient.objects.get(campaign=campaign, to=second)
    assert second_row.state == State.FAILED
    assert second_row.error_code == "131026"
    assert second_row.error_message == "131026:Receiver incapable"
    # Again, in another order: nothing moves back.
    campaign_receipts.apply([event(first, 2, 5), event(second, 2, 5), event(third, 3, 2)])
    assert states(campaign) == {State.READ: 1, State.FAILED: 1, State.DELIVERED: 1}
    assert states(campaign) == true_states(campaign)
    errors = counters.counts(campaign.pk).errors()
    assert errors[0][:3] == (State.FAILED, "131026", 1)
    assert "cannot receive" in errors[0][3]


def test_it_leaves_receipts_of_other_tasks_to_the_messages(
    senders: Senders, template: Variant, sandbox: SandboxHandle, run_jobs: RunJobs
) -> None:
    launch_ready(senders, template, run_jobs, 1)
    stranger = StatusEvent(
        channel_id=senders.whatsapp.channel_id,
        cams_message_id="other",
        task_id="not-ours",
        to="6590000000",
        status=2,
    )
    assert campaign_receipts.apply([stranger]) == [stranger]


def launch_ready(senders: Senders, template: Variant, run_jobs: RunJobs, count: int) -> Campaign:
    campaign = ready(senders, template, run_jobs, count)
    actions.launch(Actor(), campaign)
    run_jobs()
    campaign.refresh_from_db()
    return campaign


def test_it_keeps_counters_exact_through_any_transitions(
    senders: Senders, template: Variant, run_jobs: RunJobs
) -> None:
    campaign = ready(senders, template, run_jobs, 40)
    rng = random.Random(7)
    ids = list(Recipient.objects.filter(campaign=campaign).values_list("pk", flat=True))
    codes = ["", "131026", "Client.Timeout", "System.LimitControl"]
    for _ in range(60):
        picked = rng.sample(ids, rng.randint(1, 15))
        state = rng.choice(list(State.values))
        Recipient.objects.filter(pk__in=picked).update(state=state, error_code=rng.choice(codes))
    Recipient.objects.filter(pk__in=ids[:5]).delete()
    counts = counters.counts(campaign.pk)
    assert counts.by_state == true_states(campaign)
    truth: dict[tuple[str, str], int] = {}
    for state, code in Recipient.objects.filter(
        campaign=campaign, state__in=(State.FAILED, State.UNKNOWN, State.SUPPRESSED)
    ).values_list("state", "error_code"):
        truth[(state, code)] = truth.get((state, code), 0) + 1
    assert counts.by_code == truth
    counters.compact(campaign.pk)
    assert counters.counts(campaign.pk).by_state == true_states(campaign)


def test_it_restarts_an_import_whose_worker_died(campaign: Campaign, run_jobs: RunJobs) -> None:
    imp = upload(campaign, csv_bytes(people(4)))
    actions.start_import(Actor(), imp, MAPPING)
    # The job started and died: running, token taken, nothing moving.
    CampaignImport.objects.filter(pk=imp.pk).update(
        state="running", token="dead", updated_at=timezone.now() - timedelta(minutes=5)
    )
    report = sweeper.sweep(timezone.now())
    assert report["campaign_imports_restarted"] == 1
    run_jobs()
    imp.refresh_from_db()
    assert imp.state == CampaignImport.State.DONE
    assert imp.attempts == 1
    assert Recipient.objects.filter(campaign=campaign).count() == 4


def test_it_lets_only_the_newest_run_of_an_import_finish(campaign: Campaign) -> None:
    imp = upload(campaign, csv_bytes(people(3)))
    actions.start_import(Actor(), imp, MAPPING)
    tally = imports.Tally(rows_read=3, valid=3)
    CampaignImport.objects.filter(pk=imp.pk).update(state="running", token="newer")
    with pytest.raises(imports.Superseded):
        imports.finish(imp, "older", tally, "")
    assert not Recipient.objects.filter(campaign=campaign).exists()


def test_it_never_runs_a_campaign_twice_at_once(
    senders: Senders, template: Variant, sandbox: SandboxHandle, run_jobs: RunJobs
) -> None:
    campaign = ready(senders, template, run_jobs, 10, batch_size=5)
    actions.launch(Actor(), campaign)
    with pytest.raises(actions.Refused):
        actions.launch(Actor(), campaign)  # a second click
    campaign.refresh_from_db()
    # Two jobs of the same run at once share the chunks; neither sends a recipient twice.
    first = chunks.claim(campaign.pk, campaign.run)
    second = chunks.claim(campaign.pk, campaign.run)
    assert first is not None
    assert second is not None
    assert first.chunk_id != second.chunk_id
    assert chunks.claim(campaign.pk, campaign.run) is None
    for claim in (first, second):
        chunks.put_back(claim)
    run_jobs()
    assert ledger(sandbox)["duplicates"] == 0
    assert states(campaign) == {State.ACCEPTED: 10}


def test_it_takes_platform_ids_for_a_messenger_campaign(
    senders: Senders, template: Variant, run_jobs: RunJobs
) -> None:
    channel = senders.messenger.channel
    campaign = make_campaign(senders, template, sender=senders.messenger, channel=channel)
    rows = [["2749012345678901", "Ann", "A-1"], ["+65 9123 4567", "Bob", "B-2"]]
    imp = import_file(campaign, csv_bytes(rows), run_jobs)
    assert (imp.imported, imp.invalid) == (1, 1)
    assert Recipient.objects.get(campaign=campaign).to == "2749012345678901"
