"""The design page and the template pages: drafts, versions, languages, copies, the list."""

import json
from typing import Any

from django.test import Client
from django.urls import reverse

from camsconsole.models import AuditEvent, Channel, ChannelType
from templates_app.models import Status, Template, TemplateJob, Variant, Version
from tests.templates_app.conftest import (
    BODY,
    design_post,
    detail_url,
    make_variant,
    marketing,
    page,
)


def test_it_shows_the_design_page_with_its_palette(
    operator_client: Client, channel: Channel
) -> None:
    html = page(operator_client, reverse("template-create") + f"?channel={channel.pk}")
    assert 'id="palette"' in html
    assert 'id="design-state"' in html
    assert 'data-kind="WHATSAPP"' in html
    assert "templates_app/design.js" in html
    assert "<script>" not in html  # no inline scripts: the page must run under a strict CSP


def test_it_saves_a_draft_as_version_one(operator_client: Client, channel: Channel) -> None:
    response = operator_client.post(reverse("template-create"), design_post(channel))
    variant = Variant.objects.get()
    assert response.status_code == 302
    assert response["Location"] == detail_url(variant)
    assert variant.status == Status.DRAFT
    assert variant.template.name == "spring_sale"
    assert variant.components == marketing()
    assert variant.example == {"1": "Alice", "2": "SPRING20"}
    assert [(v.number, v.source, v.actor_label) for v in variant.versions.all()] == [
        (1, Version.Source.EDIT, "oscar-operator")
    ]
    assert not TemplateJob.objects.exists()


def test_it_keeps_a_version_per_saved_change(operator_client: Client, channel: Channel) -> None:
    variant = make_variant(channel)
    url = reverse("variant-edit", args=[variant.pk])
    changed = marketing(FOOTER={"Type": "FOOTER", "Text": "Bye for now"})
    operator_client.post(url, design_post(channel, components=changed))
    operator_client.post(url, design_post(channel, components=changed))  # nothing new
    variant.refresh_from_db()
    assert variant.version == 2
    assert list(variant.versions.values_list("number", flat=True)) == [2, 1]
    html = page(operator_client, reverse("variant-versions", args=[variant.pk]))
    assert "FOOTER.Text" in html
    assert "Reply STOP to opt out" in html
    assert "Bye for now" in html


def test_it_shows_a_reorder_as_one_change(operator_client: Client, channel: Channel) -> None:
    variant = make_variant(channel)
    reordered = marketing()
    reordered[2], reordered[3] = reordered[3], reordered[2]
    operator_client.post(
        reverse("variant-edit", args=[variant.pk]), design_post(channel, components=reordered)
    )
    response = operator_client.get(reverse("variant-versions", args=[variant.pk]))
    latest, changes = response.context["versions"][0]
    assert latest.number == 2
    assert [(c.path, c.before, c.after) for c in changes] == [
        ("order", "HEADER, BODY, FOOTER, BUTTONS", "HEADER, BODY, BUTTONS, FOOTER")
    ]


def test_it_drops_samples_of_variables_no_longer_used(
    operator_client: Client, channel: Channel
) -> None:
    body = {"Type": "BODY", "Text": "Hello {{1}}, see you soon."}
    operator_client.post(
        reverse("template-create"),
        design_post(channel, components=marketing(BODY=body), example={"1": "Al", "2": "x"}),
    )
    assert Variant.objects.get().example == {"1": "Al"}


def test_it_saves_a_draft_with_problems_but_will_not_submit_it(
    operator_client: Client, channel: Channel, queue: Any, on_commit: Any
) -> None:
    broken = marketing(FOOTER={"Type": "FOOTER", "Text": "F" * 61})
    operator_client.post(reverse("template-create"), design_post(channel, components=broken))
    variant = Variant.objects.get()
    html = page(operator_client, detail_url(variant))
    assert "1 problem to fix before submitting" in html
    assert "FOOTER is longer than 60 characters" in html
    with on_commit():
        response = operator_client.post(reverse("variant-submit", args=[variant.pk]))
    assert response.status_code == 302
    assert not TemplateJob.objects.exists()
    assert queue.count == 0


def test_it_refuses_to_save_and_submit_an_invalid_design(
    operator_client: Client, channel: Channel
) -> None:
    data = design_post(channel, example={"1": "Alice"}, action="submit")
    response = operator_client.post(reverse("template-create"), data)
    assert response.status_code == 400
    assert not Template.objects.exists()
    state = response.context["state"]
    assert {"field": "Example.2"} in [{"field": e["field"]} for e in state["errors"]]
    # The operator's design comes back as it was posted, to be fixed.
    assert state["components"] == marketing()


def test_it_saves_and_submits_a_valid_design(
    operator_client: Client, channel: Channel, queue: Any, on_commit: Any
) -> None:
    with on_commit():
        operator_client.post(reverse("template-create"), design_post(channel, action="submit"))
    job = TemplateJob.objects.get()
    assert (job.kind, job.state, job.version) == ("submit", "queued", 1)
    assert [j.args for j in queue.get_jobs()] == [(job.pk,)]


def test_it_refuses_a_name_the_channel_already_has(
    operator_client: Client, channel: Channel
) -> None:
    make_variant(channel)
    response = operator_client.post(reverse("template-create"), design_post(channel))
    assert response.status_code == 400
    assert "already has a template with this name" in response.content.decode()
    other = Channel.objects.create(
        account=channel.account, channel_type=ChannelType.WHATSAPP, cust_space_id="s2", name="B"
    )
    assert operator_client.post(reverse("template-create"), design_post(other)).status_code == 302


def test_it_locks_name_and_channel_once_cams_has_the_template(
    operator_client: Client, channel: Channel
) -> None:
    variant = make_variant(channel)
    Variant.objects.filter(pk=variant.pk).update(template_code="abc", status=Status.FAIL)
    data = design_post(channel, name="renamed", language="fr")
    operator_client.post(reverse("variant-edit", args=[variant.pk]), data)
    variant.refresh_from_db()
    assert (variant.template.name, variant.language) == ("spring_sale", "en_US")


def test_it_adds_a_language_starting_from_another(
    operator_client: Client, channel: Channel
) -> None:
    source = make_variant(channel)
    url = reverse("variant-translate", args=[source.pk])
    form = operator_client.get(url).context["form"]
    assert json.loads(form["components"].value()) == source.components
    assert form.fields["name"].disabled
    spanish = marketing(BODY={"Type": "BODY", "Text": "Hola {{1}}, usa *{{2}}* hoy."})
    response = operator_client.post(url, design_post(channel, language="es", components=spanish))
    assert response.status_code == 302
    added = Variant.objects.get(language="es")
    assert added.template == source.template
    assert added.versions.get().source == Version.Source.TRANSLATE
    taken = operator_client.post(url, design_post(channel, language="es"))
    assert "already has this language" in taken.content.decode()


def test_it_duplicates_a_template_as_drafts(operator_client: Client, channel: Channel) -> None:
    source = make_variant(channel)
    Variant.objects.filter(pk=source.pk).update(template_code="abc", status=Status.PASS)
    operator_client.post(reverse("template-duplicate", args=[source.template_id]))
    operator_client.post(reverse("template-duplicate", args=[source.template_id]))
    copies = Template.objects.exclude(pk=source.template_id).order_by("pk")
    assert [t.name for t in copies] == ["spring_sale_copy", "spring_sale_copy_2"]
    copy = copies[0].variants.get()
    assert (copy.status, copy.template_code, copy.components) == ("draft", "", source.components)
    event = AuditEvent.objects.filter(verb="template.duplicate").first()
    assert event is not None
    assert event.after == {"from": "spring_sale", "languages": {"en_US": source.components}}


def test_it_deletes_a_draft_language_at_once(operator_client: Client, channel: Channel) -> None:
    variant = make_variant(channel)
    confirm = page(operator_client, reverse("variant-delete", args=[variant.pk]))
    assert "CAMS has never seen this language" in confirm
    response = operator_client.post(reverse("variant-delete", args=[variant.pk]))
    assert response["Location"] == reverse("template-list")
    assert not Template.objects.exists()  # it was the only language
    verbs = list(AuditEvent.objects.order_by("id").values_list("verb", flat=True))
    assert verbs[-2:] == ["template.delete_language", "template.delete"]


def test_it_audits_design_actions_with_components(
    operator_client: Client, channel: Channel
) -> None:
    operator_client.post(reverse("template-create"), design_post(channel))
    variant = Variant.objects.get()
    changed = marketing(BODY={"Type": "BODY", "Text": "Hi {{1}}, take {{2}} now."})
    operator_client.post(
        reverse("variant-edit", args=[variant.pk]), design_post(channel, components=changed)
    )
    create, edit = AuditEvent.objects.filter(object_type="template").order_by("id")
    assert create.verb == "template.create"
    assert create.before is None
    assert create.after["components"] == marketing()
    assert (create.actor_label, create.object_label) == ("oscar-operator", "spring_sale")
    assert edit.verb == "template.edit"
    assert edit.before["components"][1]["Text"] == BODY
    assert edit.after["components"][1]["Text"] == "Hi {{1}}, take {{2}} now."
    assert "template.edit" in page(operator_client, detail_url(variant))


def test_it_keeps_viewers_away_from_changes(viewer_client: Client, channel: Channel) -> None:
    variant = make_variant(channel)
    html = page(viewer_client, detail_url(variant))
    assert reverse("variant-edit", args=[variant.pk]) not in html
    assert viewer_client.post(reverse("template-create"), design_post(channel)).status_code == 403


def test_it_filters_the_list(viewer_client: Client, channel: Channel) -> None:
    make_variant(channel)
    approved = make_variant(channel, name="order_ready", category="UTILITY", language="fr")
    Variant.objects.filter(pk=approved.pk).update(status=Status.PASS, template_code="c1")
    viber = Channel.objects.create(
        account=channel.account, channel_type=ChannelType.VIBER, cust_space_id="v", name="Vb"
    )
    make_variant(viber, name="viber_news", components=marketing(FOOTER=None, BUTTONS=None))

    def names(**query: Any) -> list[str]:
        response = viewer_client.get(reverse("template-list"), query)
        return [v.template.name for v in response.context["page"]]

    assert names() == ["order_ready", "spring_sale", "viber_news"]
    assert names(channel=viber.pk) == ["viber_news"]
    assert names(status="pass") == ["order_ready"]
    assert names(category="UTILITY") == ["order_ready"]
    assert names(language="fr") == ["order_ready"]
    assert names(q="sale") == ["spring_sale"]
    assert names(q="Reply STOP") == ["order_ready", "spring_sale"]
    assert names(usable="on") == ["order_ready"]
    assert names(status="pass", language="en_US") == []


def test_it_shows_what_is_usable_for_sending_now(viewer_client: Client, channel: Channel) -> None:
    variant = make_variant(channel)
    Variant.objects.filter(pk=variant.pk).update(status=Status.PASS, template_code="c1")
    assert list(Variant.objects.usable()) == [variant]
    assert "usable</span>" in page(viewer_client, reverse("template-list"))
    Variant.objects.filter(pk=variant.pk).update(allow_send=False)
    assert not Variant.objects.usable().exists()
    Variant.objects.filter(pk=variant.pk).update(allow_send=None, status=Status.PAUSED)
    assert not Variant.objects.usable().exists()
    Variant.objects.filter(pk=variant.pk).update(status=Status.PASS)
    Channel.objects.filter(pk=channel.pk).update(is_active=False)
    assert not Variant.objects.usable().exists()


def test_it_polls_the_status_while_cams_decides_and_then_reloads(
    viewer_client: Client, channel: Channel
) -> None:
    variant = make_variant(channel)
    url = reverse("variant-status", args=[variant.pk])
    assert "hx-trigger" not in page(viewer_client, url)  # a draft: nothing is moving
    Variant.objects.filter(pk=variant.pk).update(template_code="c1", status=Status.AUDITING)
    waiting = viewer_client.get(url, headers={"HX-Request": "true"})
    assert 'hx-trigger="every 2s"' in waiting.content.decode()
    assert "HX-Refresh" not in waiting
    Variant.objects.filter(pk=variant.pk).update(status=Status.PASS)
    settled = viewer_client.get(url, headers={"HX-Request": "true"})
    assert settled["HX-Refresh"] == "true"
    assert "hx-trigger" not in settled.content.decode()


def test_it_offers_resubmission_only_where_cams_allows_it(
    operator_client: Client, channel: Channel
) -> None:
    variant = make_variant(channel)
    submit_url = reverse("variant-submit", args=[variant.pk])
    for status, offered in [("draft", True), ("fail", True), ("pass", False), ("paused", False)]:
        code = "" if status == "draft" else "c1"
        Variant.objects.filter(pk=variant.pk).update(status=status, template_code=code)
        assert (submit_url in page(operator_client, detail_url(variant))) is offered, status
