"""Campaign dispatch against the sandbox: every recipient once, at the limiter's pace, in a
truthful state whatever CAMS or the workers do."""

from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from camsconsole.audit import Actor
from camsconsole.cams.client import CamsClient
from camsconsole.cams.sandbox import SandboxHandle
from camsconsole.models import AuditEvent
from messaging import ratelimit, sweeper
from messaging.campaigns import actions, chunks, codes, counters, dispatch
from messaging.campaigns.models import Campaign, CampaignCall, CampaignChunk, Recipient
from messaging.models import State, Suppression
from templates_app.models import Variant
from tests.campaigns.conftest import (
    Deliver,
    RunJobs,
    Senders,
    csv_bytes,
    import_file,
    make_campaign,
    people,
)


def states(campaign: Campaign) -> dict[str, int]:
    return counters.counts(campaign.pk).by_state


def true_states(campaign: Campaign) -> dict[str, int]:
    found: dict[str, int] = {}
    for state in Recipient.objects.filter(campaign=campaign).values_list("state", flat=True):
        found[state] = found.get(state, 0) + 1
    return found


def ledger(sandbox: SandboxHandle) -> dict[str, Any]:
    report = sandbox.ledger()
    return {
        "messages": report["messages"],
        "duplicates": report["duplicates"]["by_to"]["extra"],
        "calls": report["send_calls"],
    }


def ready(senders: Senders, template: Variant, run_jobs: RunJobs, count: int, **fields: Any):
    campaign = make_campaign(senders, template, **fields)
    imp = import_file(campaign, csv_bytes(people(count)), run_jobs)
    assert imp.state == "done", imp.error
    campaign.refresh_from_db()
    return campaign


def launch(campaign: Campaign, run_jobs: RunJobs) -> Campaign:
    actions.launch(Actor(), campaign)
    run_jobs()
    campaign.refresh_from_db()
    return campaign


@pytest.fixture
def quick_timeout(settings: Any) -> None:
    settings.CAMS_TIMEOUT = 0.5


def test_it_sends_a_mass_campaign_in_calls_of_the_batch_size(
    senders: Senders,
    template: Variant,
    sandbox: SandboxHandle,
    run_jobs: RunJobs,
    deliver: Deliver,
) -> None:
    campaign = ready(senders, template, run_jobs, 25, batch_size=10)
    assert CampaignChunk.objects.filter(campaign=campaign).count() == 3
    campaign = launch(campaign, run_jobs)
    assert campaign.status == Campaign.Status.COMPLETED
    assert states(campaign) == {State.ACCEPTED: 25}
    assert ledger(sandbox) == {
        "messages": 25,
        "duplicates": 0,
        "calls": {"SendChatappMassMessage": 3},
    }
    calls = list(CampaignCall.objects.filter(campaign=campaign))
    assert [call.recipients for call in calls] == [10, 10, 5]
    assert all(call.state == "accepted" and call.group_message_id for call in calls)
    recipient = Recipient.objects.get(campaign=campaign, to="6590000007")
    assert recipient.task_id == calls[0].task_id
    entry = sandbox.state.ledger.entries(0, 100, to="6590000007")[0]
    assert entry["TaskId"] == recipient.task_id

    # Receipts carry (TaskId, To): they reach the recipients of a mass call.
    deliver()
    run_jobs()
    assert states(campaign) == {State.READ: 25}
    assert states(campaign) == true_states(campaign)
    recipient.refresh_from_db()
    assert recipient.message_id == entry["MessageId"]
    assert recipient.sent_at
    assert recipient.delivered_at
    assert recipient.read_at
    funnel = counters.counts(campaign.pk).funnel
    assert funnel == {"accepted": 25, "sent": 25, "delivered": 25, "read": 25, "failed": 0}
    verbs = list(AuditEvent.objects.values_list("verb", flat=True))
    assert "campaign.launch" in verbs
    assert "campaign.complete" in verbs


def test_it_sends_a_single_mode_campaign_one_call_per_recipient(
    senders: Senders, template: Variant, sandbox: SandboxHandle, run_jobs: RunJobs
) -> None:
    campaign = ready(senders, template, run_jobs, 6, mode=Campaign.Mode.SINGLE)
    campaign = launch(campaign, run_jobs)
    assert campaign.status == Campaign.Status.COMPLETED
    assert states(campaign) == {State.ACCEPTED: 6}
    assert ledger(sandbox)["calls"] == {"SendChatappMessage": 6}
    recipients = Recipient.objects.filter(campaign=campaign)
    assert len({r.task_id for r in recipients}) == 6
    assert all(r.message_id for r in recipients)


def test_it_commits_the_task_id_before_the_call(
    senders: Senders,
    template: Variant,
    sandbox: SandboxHandle,
    run_jobs: RunJobs,
    monkeypatch: Any,
) -> None:
    campaign = ready(senders, template, run_jobs, 3)
    seen: list[tuple[set[str], set[str], str]] = []
    original = CamsClient.send

    def spy(self: CamsClient, prepared: Any) -> Any:
        rows = Recipient.objects.filter(campaign=campaign)
        task_id = parse_qs(urlsplit(prepared.target).query)["TaskId"][0]
        call = CampaignCall.objects.get(task_id=task_id)
        seen.append(({r.state for r in rows}, {r.task_id for r in rows}, call.state))
        return original(self, prepared)

    monkeypatch.setattr(CamsClient, "send", spy)
    launch(campaign, run_jobs)
    task_id = CampaignCall.objects.get(campaign=campaign).task_id
    assert seen == [({State.SENDING}, {task_id}, "sending")]


def test_it_backs_off_after_throttling_and_still_sends_each_recipient_once(
    senders: Senders, template: Variant, sandbox: SandboxHandle, run_jobs: RunJobs
) -> None:
    campaign = ready(senders, template, run_jobs, 30, batch_size=10)
    sandbox.configure(throttle_storm=1.0)
    actions.launch(Actor(), campaign)
    campaign.refresh_from_db()
    outcome = dispatch.send(campaign.pk, campaign.run, budget=0.5)
    assert outcome == "later"
    assert states(campaign) == {State.PENDING: 30}
    assert ratelimit.slowdown_factor(senders.account, "SendChatappMassMessage") > 1
    throttled = CampaignChunk.objects.filter(campaign=campaign, attempts__gt=0).first()
    assert throttled is not None
    assert throttled.not_before is not None
    assert throttled.not_before > timezone.now()
    sandbox.configure(throttle_storm=0.0)
    CampaignChunk.objects.filter(campaign=campaign).update(not_before=None)
    run_jobs()
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.COMPLETED
    assert states(campaign) == {State.ACCEPTED: 30}
    assert ledger(sandbox)["duplicates"] == 0
    assert ledger(sandbox)["messages"] == 30


def test_it_fails_a_refused_call_with_the_code_and_its_meaning(
    senders: Senders, template: Variant, sandbox: SandboxHandle, run_jobs: RunJobs
) -> None:
    campaign = ready(senders, template, run_jobs, 4, template_code="0" * 32)
    Campaign.objects.filter(pk=campaign.pk).update(variant=None)
    campaign.refresh_from_db()
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.RUNNING, run=1)
    chunks_ = CampaignChunk.objects.filter(campaign=campaign)
    assert chunks_.count() == 1
    dispatch.send(campaign.pk, 1, budget=5)
    assert states(campaign) == {State.FAILED: 4}
    counts = counters.counts(campaign.pk)
    assert counts.errors() == [
        (State.FAILED, "DetailError.TemplateNotExist", 4, "There is no template with this code.")
    ]
    recipient = Recipient.objects.filter(campaign=campaign).first()
    assert recipient.error_message.startswith("There is no template with this code.")


@pytest.mark.usefixtures("quick_timeout")
def test_it_marks_a_hung_call_unknown_and_receipts_settle_it(
    senders: Senders,
    template: Variant,
    sandbox: SandboxHandle,
    run_jobs: RunJobs,
    deliver: Deliver,
) -> None:
    campaign = ready(senders, template, run_jobs, 5)
    sandbox.configure(hang_ratio=1.0, fault_accept_ratio=1.0)
    campaign = launch(campaign, run_jobs)
    assert states(campaign) == {State.UNKNOWN: 5}
    assert Recipient.objects.filter(campaign=campaign).first().error_code == "Client.Timeout"
    assert campaign.status == Campaign.Status.COMPLETED
    sandbox.configure(hang_ratio=0.0)
    deliver()
    run_jobs()
    assert states(campaign) == {State.READ: 5}
    assert Recipient.objects.filter(campaign=campaign, error_code="").count() == 5
    assert ledger(sandbox)["messages"] == 5


@pytest.mark.usefixtures("quick_timeout")
def test_it_never_resends_an_unknown_call_by_itself_and_lets_an_operator_resend_once(
    senders: Senders, template: Variant, sandbox: SandboxHandle, run_jobs: RunJobs
) -> None:
    campaign = ready(senders, template, run_jobs, 5)
    sandbox.configure(hang_ratio=1.0, fault_accept_ratio=0.0, receipts=False)
    campaign = launch(campaign, run_jobs)
    sandbox.configure(hang_ratio=0.0)
    later = timezone.now() + timedelta(minutes=5)
    for _ in range(6):
        sweeper.sweep(later)
        run_jobs()
    assert states(campaign) == {State.UNKNOWN: 5}
    assert Recipient.objects.filter(campaign=campaign).first().error_code == codes.NOT_IN_HISTORY
    assert ledger(sandbox)["messages"] == 0

    actions.resolve_unknowns(Actor(), campaign, resend=True)
    run_jobs()
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.COMPLETED
    assert states(campaign) == {State.ACCEPTED: 5}
    assert ledger(sandbox) == {
        "messages": 5,
        "duplicates": 0,
        "calls": {"SendChatappMassMessage": 1},  # the hung call never reached the ledger
    }


@pytest.mark.usefixtures("quick_timeout")
def test_it_reconciles_an_unknown_call_from_the_message_history(
    senders: Senders, template: Variant, sandbox: SandboxHandle, run_jobs: RunJobs
) -> None:
    campaign = ready(senders, template, run_jobs, 5)
    sandbox.configure(error_5xx_ratio=1.0, fault_accept_ratio=1.0, receipts=False)
    campaign = launch(campaign, run_jobs)
    assert states(campaign) == {State.UNKNOWN: 5}
    sandbox.configure(error_5xx_ratio=0.0)
    sweeper.sweep(timezone.now() + timedelta(minutes=1))
    assert states(campaign) == {State.ACCEPTED: 5}
    call = CampaignCall.objects.get(campaign=campaign)
    assert call.state == "accepted"
    assert call.reconciled_at is not None
    assert ledger(sandbox)["messages"] == 5


def test_it_recovers_a_worker_that_died_mid_call(
    senders: Senders, template: Variant, sandbox: SandboxHandle, run_jobs: RunJobs
) -> None:
    campaign = ready(senders, template, run_jobs, 12, batch_size=5)
    actions.launch(Actor(), campaign)
    campaign.refresh_from_db()
    # A worker claims a chunk and commits its call, then dies before calling CAMS.
    claim = chunks.claim(campaign.pk, campaign.run)
    assert claim is not None
    ctx = dispatch.context(campaign.pk, campaign.run)
    assert ctx is not None
    dispatch._start_call(ctx, claim.chunk_id, claim.first_id, claim.last_id, 5)
    assert states(campaign)[State.SENDING] == 5
    # The other chunks go out; the dead worker's chunk and call wait for their leases.
    run_jobs()
    assert states(campaign) == {State.ACCEPTED: 7, State.SENDING: 5}
    later = timezone.now() + timedelta(minutes=2)
    sweeper.sweep(later)
    assert states(campaign) == {State.ACCEPTED: 7, State.UNKNOWN: 5}
    assert not CampaignChunk.objects.filter(campaign=campaign, state="claimed").exists()
    run_jobs()
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.COMPLETED
    assert states(campaign) == true_states(campaign)
    assert ledger(sandbox)["duplicates"] == 0
    assert ledger(sandbox)["messages"] == 7


def test_it_pauses_resumes_and_cancels(
    senders: Senders, template: Variant, sandbox: SandboxHandle, run_jobs: RunJobs
) -> None:
    campaign = ready(senders, template, run_jobs, 30, batch_size=10)
    actions.launch(Actor(), campaign)
    campaign.refresh_from_db()
    first_run = campaign.run
    dispatch.send(campaign.pk, campaign.run, budget=0.0)  # no time: nothing sent
    actions.pause(Actor(), campaign)
    assert dispatch.send(campaign.pk, first_run) == "stopped"
    assert states(campaign) == {State.PENDING: 30}
    with pytest.raises(actions.Refused):
        actions.launch(Actor(), campaign)

    actions.resume(Actor(), campaign)
    campaign.refresh_from_db()
    assert campaign.run == first_run + 1
    # A job of the old run finds nothing to do: the campaign never runs twice at once.
    assert dispatch.send(campaign.pk, first_run) == "stopped"
    # Send one chunk, then cancel.
    claim = chunks.claim(campaign.pk, campaign.run)
    assert claim is not None
    chunks.put_back(claim)
    run_jobs()
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.COMPLETED
    assert states(campaign) == {State.ACCEPTED: 30}
    with pytest.raises(actions.Refused):
        actions.cancel(Actor(), campaign)


def test_it_marks_the_unsent_recipients_of_a_cancelled_campaign(
    senders: Senders, template: Variant, sandbox: SandboxHandle, run_jobs: RunJobs
) -> None:
    campaign = ready(senders, template, run_jobs, 20, batch_size=10)
    actions.launch(Actor(), campaign)
    campaign.refresh_from_db()
    ctx = dispatch.context(campaign.pk, campaign.run)
    assert ctx is not None
    dispatch.lane(ctx, 0.0)  # no time left: nothing is claimed
    actions.cancel(Actor(), campaign)
    run_jobs()
    assert states(campaign) == {State.FAILED: 20}
    assert counters.counts(campaign.pk).by_code == {(State.FAILED, codes.CANCELLED): 20}
    assert ledger(sandbox)["messages"] == 0


def test_it_skips_recipients_who_opted_out_after_the_import(
    senders: Senders, template: Variant, sandbox: SandboxHandle, run_jobs: RunJobs
) -> None:
    campaign = ready(senders, template, run_jobs, 4)
    Suppression.objects.create(
        channel=campaign.channel,
        business_number=campaign.sender.sender_id,
        user="6590000002",
        source=Suppression.Source.RECEIPT,
        changed_at=timezone.now(),
    )
    launch(campaign, run_jobs)
    assert states(campaign) == {State.ACCEPTED: 3, State.SUPPRESSED: 1}
    assert ledger(sandbox)["messages"] == 3


def test_it_pauses_instead_of_failing_when_the_sender_is_disabled(
    senders: Senders, template: Variant, sandbox: SandboxHandle, run_jobs: RunJobs
) -> None:
    campaign = ready(senders, template, run_jobs, 4)
    actions.launch(Actor(), campaign)
    senders.whatsapp.is_active = False
    senders.whatsapp.save()
    run_jobs()
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.PAUSED
    assert "disabled" in campaign.last_error
    assert states(campaign) == {State.PENDING: 4}


def test_it_retries_only_failures_worth_retrying(
    senders: Senders, template: Variant, sandbox: SandboxHandle, run_jobs: RunJobs
) -> None:
    campaign = launch(ready(senders, template, run_jobs, 6), run_jobs)
    rows = list(Recipient.objects.filter(campaign=campaign).order_by("id"))
    Recipient.objects.filter(pk__in=[rows[0].pk, rows[1].pk]).update(
        state=State.FAILED, error_code="131049"
    )
    Recipient.objects.filter(pk=rows[2].pk).update(state=State.FAILED, error_code="131026")
    assert actions.retry_failed(Actor(), campaign) == 2
    run_jobs()
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.COMPLETED
    assert states(campaign) == {State.ACCEPTED: 5, State.FAILED: 1}
    assert ledger(sandbox)["calls"] == {"SendChatappMassMessage": 2}
