"""The campaign pages as an operator and a viewer use them."""

import csv
import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from camsconsole.audit import Actor
from camsconsole.cams.sandbox import SandboxHandle
from camsconsole.models import AuditEvent
from messaging.campaigns import actions
from messaging.campaigns.models import Campaign, CampaignImport, Recipient
from messaging.models import State
from templates_app.models import Variant
from tests.campaigns.conftest import RunJobs, Senders, csv_bytes, import_file, people


def campaign_post(senders: Senders, template: Variant, **extra: Any) -> dict[str, Any]:
    data = {
        "name": "Spring sale",
        "channel": template.template.channel_id,
        "sender": senders.whatsapp.pk,
        "variant": template.pk,
        "mode": "mass",
        "batch_size": "1000",
        "schedule_timezone": "UTC",
    }
    data.update(extra)
    return data


def test_it_creates_a_campaign_and_records_it(
    operator_client: Client, senders: Senders, template: Variant
) -> None:
    response = operator_client.post(reverse("campaign-create"), campaign_post(senders, template))
    assert response.status_code == 302
    campaign = Campaign.objects.get()
    assert campaign.status == Campaign.Status.DRAFT
    assert campaign.template_code == template.template_code
    assert campaign.language == template.language
    assert AuditEvent.objects.filter(verb="campaign.create").exists()


def test_it_checks_the_campaign_options_with_the_shared_rules(
    operator_client: Client, senders: Senders, template: Variant
) -> None:
    data = campaign_post(senders, template, batch_size="5000", viber_label="promotion")
    response = operator_client.post(reverse("campaign-create"), data)
    assert response.status_code == 400
    form = response.context["form"]
    assert "batch_size" in form.errors
    assert form.errors["viber_label"] == ["Only Viber campaigns take this option."]
    other = senders.viber
    data = campaign_post(senders, template, sender=other.pk)
    response = operator_client.post(reverse("campaign-create"), data)
    assert "sender" in response.context["form"].errors


def test_it_reloads_the_senders_and_templates_of_the_chosen_channel(
    operator_client: Client, senders: Senders, template: Variant
) -> None:
    channel = senders.viber.channel
    response = operator_client.get(
        reverse("campaign-create"), {"channel": channel.pk}, HTTP_HX_REQUEST="true"
    )
    form = response.context["form"]
    assert list(form.fields["sender"].queryset) == [senders.viber]
    assert list(form.fields["variant"].queryset) == []


def test_it_uploads_maps_imports_and_shows_the_preflight(
    operator_client: Client, campaign: Campaign, run_jobs: RunJobs
) -> None:
    rows = [*people(6), ["nope", "Bad", "ORD-X"], ["+65 9000 0001", "Dup", "ORD-D"]]
    upload = SimpleUploadedFile("list.csv", csv_bytes(rows), content_type="text/csv")
    response = operator_client.post(
        reverse("campaign-upload", args=[campaign.pk]), {"file": upload}
    )
    imp = CampaignImport.objects.get()
    assert response["Location"] == reverse("campaignimport-mapping", args=[imp.pk])

    page = operator_client.get(response["Location"])
    assert page.status_code == 200
    form = page.context["form"]
    assert form.fields["recipient"].initial == "0"
    assert form.fields["var_1"].initial == "1"
    assert form.fields["var_2"].initial == "2"
    assert "payload_0" in form.fields  # the template's quick replies
    response = operator_client.post(
        response["Location"],
        {"recipient": "0", "var_1": "1", "var_2": "2", "payload_0": "", "payload_1": ""},
    )
    assert response.status_code == 302
    run_jobs()
    imp.refresh_from_db()
    assert (imp.valid, imp.invalid, imp.duplicates) == (6, 1, 1)

    page = operator_client.get(reverse("campaign-detail", args=[campaign.pk]))
    assert page.status_code == 200
    check = page.context["check"]
    assert check.blockers == []
    assert check.pending == 6
    assert [sample.to for sample in check.samples] == [
        "6590000000",
        "6590000001",
        "6590000002",
        "6590000003",
        "6590000004",
    ]
    html = page.content.decode()
    assert "Hi Customer 0, your order ORD-0 has shipped." in html
    assert 'id="launch-button"' in html

    report = operator_client.get(reverse("campaignimport-report", args=[imp.pk]))
    assert report.status_code == 200
    lines = list(csv.reader(io.StringIO(b"".join(report.streaming_content).decode("utf-8-sig"))))
    assert lines[0] == ["Row", "Value", "Reason"]
    assert len(lines) == 3
    assert AuditEvent.objects.filter(verb="campaign.import_report.export").exists()


def test_it_refuses_an_upload_over_the_size_limit(
    operator_client: Client, campaign: Campaign, settings: Any
) -> None:
    settings.CAMPAIGN_UPLOAD_MAX_BYTES = 1024
    big = SimpleUploadedFile("big.csv", b"phone\n" + b"6591234567\n" * 500)
    response = operator_client.post(
        reverse("campaign-upload", args=[campaign.pk]), {"file": big}, follow=True
    )
    assert "larger than the 0 MB allowed" in response.content.decode() or "larger than" in (
        response.content.decode()
    )
    assert not CampaignImport.objects.exists()


def test_it_keeps_viewers_to_reading(viewer_client: Client, campaign: Campaign) -> None:
    upload = SimpleUploadedFile("list.csv", csv_bytes(people(2)))
    response = viewer_client.post(reverse("campaign-upload", args=[campaign.pk]), {"file": upload})
    assert response.status_code == 403
    assert viewer_client.get(reverse("campaign-detail", args=[campaign.pk])).status_code == 200


def test_it_launches_and_shows_progress_stats_and_recipients(
    operator_client: Client,
    campaign: Campaign,
    run_jobs: RunJobs,
    sandbox: SandboxHandle,
) -> None:
    import_file(campaign, csv_bytes(people(60)), run_jobs)
    response = operator_client.post(reverse("campaign-launch", args=[campaign.pk]))
    assert response.status_code == 302
    run_jobs()
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.COMPLETED
    progress = operator_client.get(reverse("campaign-progress", args=[campaign.pk]))
    assert "60 of 60 recipients done" in progress.content.decode()
    stats = operator_client.get(reverse("campaign-stats", args=[campaign.pk])).json()
    assert stats["funnel"]["accepted"] == 60
    assert sum(point["accepted"] for point in stats["rate"]) == 60

    page = operator_client.get(reverse("campaign-detail", args=[campaign.pk]))
    assert len(page.context["recipients"]) == 50
    after = page.context["next_after"]
    assert after == "6590000049"
    second = operator_client.get(
        reverse("campaign-recipients", args=[campaign.pk]), {"after": after}
    )
    assert [r.to for r in second.context["recipients"]] == [f"65900000{n}" for n in range(50, 60)]
    assert second.context["next_after"] is None
    filtered = operator_client.get(
        reverse("campaign-recipients", args=[campaign.pk]), {"to": "+65 9000 005"}
    )
    expected = [f"659000005{n}" for n in range(10)]
    assert [r.to for r in filtered.context["recipients"]] == expected


def test_it_exports_every_recipient_formula_safe(
    operator_client: Client, campaign: Campaign, run_jobs: RunJobs
) -> None:
    rows = [["+65 9000 0001", "=cmd|' /C calc'!A0", "@SUM(1)"], ["+65 9000 0002", "Bo", "B-2"]]
    import_file(campaign, csv_bytes(rows), run_jobs)
    Recipient.objects.filter(to="6590000002").update(
        state=State.FAILED, error_code="131026", error_message="-1 receiver incapable"
    )
    response = operator_client.get(reverse("campaign-export", args=[campaign.pk]))
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[0][:6] == ["To", "{{1}}", "{{2}}", "Payload", "State", "TaskId"]
    assert lines[1][:5] == ["6590000001", "'=cmd|' /C calc'!A0", "'@SUM(1)", "", "pending"]
    assert lines[2][4] == "failed"
    assert "'-1 receiver incapable" in lines[2]
    assert AuditEvent.objects.filter(verb="campaign.export").exists()


@pytest.mark.parametrize(
    ("url", "verb"),
    [
        ("campaign-pause", None),
        ("campaign-cancel", "campaign.cancel"),
    ],
)
def test_it_controls_a_campaign_from_the_page(
    operator_client: Client, campaign: Campaign, run_jobs: RunJobs, url: str, verb: str | None
) -> None:
    import_file(campaign, csv_bytes(people(3)), run_jobs)
    response = operator_client.post(reverse(url, args=[campaign.pk]), follow=True)
    assert response.status_code == 200
    if verb:
        assert AuditEvent.objects.filter(verb=verb).exists()
    else:
        assert "Only a running campaign can be paused." in response.content.decode()


def test_it_schedules_a_launch(
    operator_client: Client, campaign: Campaign, run_jobs: RunJobs
) -> None:
    import_file(campaign, csv_bytes(people(3)), run_jobs)
    from datetime import timedelta

    from django.utils import timezone

    Campaign.objects.filter(pk=campaign.pk).update(scheduled_at=timezone.now() + timedelta(hours=1))
    campaign.refresh_from_db()
    launched = actions.launch(Actor(), campaign)
    assert launched.status == Campaign.Status.SCHEDULED
    assert not actions.start_scheduled(campaign.pk)  # not yet
    Campaign.objects.filter(pk=campaign.pk).update(scheduled_at=timezone.now())
    assert actions.start_scheduled(campaign.pk)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.RUNNING
    assert not actions.start_scheduled(campaign.pk)  # never twice
