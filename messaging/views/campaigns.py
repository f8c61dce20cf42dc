"""Campaign pages: the list, create and edit, the recipient file (upload, mapping, progress,
report of rows left out), the campaign page with its live progress, charts, errors and
recipients, the controls (launch, pause, resume, cancel, retry, resolve) and the export.

Every page that moves a campaign calls messaging.campaigns.actions, which writes the audit event.
The campaign page reads counters (counters.py), never counts recipients; the recipients table
pages by keyset on (campaign, To), so page 20,000 costs what page 1 costs.
"""

import datetime
import json
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from camsconsole import history
from camsconsole.audit import Actor
from camsconsole.csv_export import csv_response
from camsconsole.roles import Role, has_role, require_role
from messaging.campaigns import actions, counters, preflight
from messaging.campaigns.forms import (
    CampaignForm,
    CappedUpload,
    MappingForm,
    RecipientFilterForm,
    UploadForm,
)
from messaging.campaigns.imports import stored_path
from messaging.campaigns.models import Campaign, CampaignImport, CampaignSecond, Recipient
from messaging.csv_import import UnreadableFile
from messaging.models import State

PAGE_SIZE = 50
RATE_SECONDS = 300  # the send-rate chart shows the last five minutes of sending
EXPORT_COLUMNS = [
    "To",
    "State",
    "TaskId",
    "MessageId",
    "Error code",
    "Error",
    "Sending",
    "Accepted",
    "Sent",
    "Delivered",
    "Read",
    "Failed",
    "Row",
]


def _htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _campaign(pk: int) -> Campaign:
    return get_object_or_404(
        Campaign.objects.select_related("channel__account", "sender", "variant__template"), pk=pk
    )


@require_role(Role.VIEWER)
def campaign_list(request: HttpRequest) -> HttpResponse:
    campaigns = list(Campaign.objects.select_related("channel", "sender")[:100])
    rows = [(campaign, counters.counts(campaign.pk)) for campaign in campaigns]
    return render(request, "messaging/campaigns/list.html", {"rows": rows})


def _form_page(request: HttpRequest, form: CampaignForm, title: str) -> HttpResponse:
    # A new channel brings its own senders and templates: htmx reloads the form.
    form.fields["channel"].widget.attrs.update(
        {
            "hx-get": request.path,
            "hx-target": "#campaign-form",
            "hx-select": "#campaign-form",
            "hx-swap": "outerHTML",
            "hx-include": "closest form",
        }
    )
    if request.method == "POST" and form.is_valid():
        try:
            campaign = actions.save(Actor.from_request(request), form)
        except actions.Refused as exc:
            messages.error(request, str(exc))
            return redirect(form.instance.get_absolute_url())
        messages.success(request, f"Saved {campaign}.")
        return redirect(campaign.get_absolute_url())
    status = 400 if request.method == "POST" and not _htmx(request) else 200
    return render(
        request, "messaging/campaigns/form.html", {"form": form, "title": title}, status=status
    )


@require_role(Role.OPERATOR)
def campaign_create(request: HttpRequest) -> HttpResponse:
    data = request.POST if request.method == "POST" else None
    initial = {"channel": request.GET.get("channel")} if request.GET.get("channel") else None
    if _htmx(request) and request.method == "GET" and request.GET:
        data = request.GET  # the channel changed: reload the form with its senders and templates
    form = CampaignForm(data, initial=initial)
    if _htmx(request) and request.method == "GET" and request.GET:
        form.errors.clear()
    return _form_page(request, form, "New campaign")


@require_role(Role.OPERATOR)
def campaign_edit(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign(pk)
    if campaign.status not in actions.EDITABLE:
        messages.error(request, "Only a campaign that has not started can be edited.")
        return redirect(campaign.get_absolute_url())
    data = request.POST if request.method == "POST" else None
    if _htmx(request) and request.method == "GET" and request.GET:
        data = request.GET
    form = CampaignForm(data, instance=campaign)
    if _htmx(request) and request.method == "GET" and request.GET:
        form.errors.clear()
    return _form_page(request, form, f"Edit {campaign}")


# -- the campaign page ------------------------------------------------------------------------


def _state_rows(counts: counters.Counts) -> list[tuple[str, str, int]]:
    return [(value, label, counts[value]) for value, label in State.choices if counts[value]]


def _progress_context(campaign: Campaign) -> dict[str, Any]:
    counts = counters.counts(campaign.pk)
    latest = campaign.imports.order_by("-id").first()
    return {
        "campaign": campaign,
        "counts": counts,
        "states": _state_rows(counts),
        "errors": counts.errors(),
        "import": latest,
        "live": _live(campaign)
        or (latest is not None and not latest.finished and latest.state != "uploaded"),
    }


# After a campaign ends its receipts keep coming for a while: the page keeps following them.
RECEIPTS_WINDOW = datetime.timedelta(minutes=15)


def _live(campaign: Campaign) -> bool:
    if campaign.status in (Campaign.Status.RUNNING, Campaign.Status.IMPORTING):
        return True
    finished = campaign.finished_at
    return (
        campaign.status == Campaign.Status.COMPLETED
        and finished is not None
        and timezone.now() - finished < RECEIPTS_WINDOW
    )


@require_role(Role.VIEWER)
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign(pk)
    context = _progress_context(campaign)
    filters = RecipientFilterForm(request.GET or None)
    context |= _recipients_page(campaign, filters, request.GET.get("after"))
    context |= {
        "filters": filters,
        "upload_form": UploadForm(),
        "check": preflight.check(campaign)
        if campaign.status in (Campaign.Status.READY, Campaign.Status.SCHEDULED)
        else None,
        "events": history.for_object(campaign),
        "can_operate": has_role(request.user, Role.OPERATOR),
    }
    return render(request, "messaging/campaigns/detail.html", context)


@require_role(Role.VIEWER)
def campaign_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The live part of the campaign page (htmx polls it while the campaign runs)."""
    campaign = _campaign(pk)
    context = _progress_context(campaign) | {"can_operate": has_role(request.user, Role.OPERATOR)}
    response = render(request, "messaging/campaigns/_progress.html", context)
    seen = request.GET.get("seen")
    if _htmx(request) and seen and seen != campaign.status:
        response["HX-Refresh"] = "true"  # the status moved on: the whole page changes
    return response


@require_role(Role.VIEWER)
def campaign_stats(request: HttpRequest, pk: int) -> JsonResponse:
    """Figures for the page's charts: accepted recipients per second, and the funnel."""
    campaign = _campaign(pk)
    counts = counters.counts(campaign.pk)
    seconds = list(
        CampaignSecond.objects.filter(campaign=campaign)
        .order_by("-second")
        .values_list("second", "accepted", "refused", "throttled")[:RATE_SECONDS]
    )
    seconds.reverse()
    series = [
        {
            "t": datetime.datetime.fromtimestamp(second, tz=datetime.UTC).isoformat(),
            "accepted": accepted,
            "refused": refused,
            "throttled": throttled,
        }
        for second, accepted, refused, throttled in seconds
    ]
    return JsonResponse(
        {
            "status": campaign.status,
            "live": _live(campaign),
            "funnel": counts.funnel,
            "rate": series,
            "total": counts.total,
            "done": counts.done,
        }
    )


def _recipients_page(
    campaign: Campaign, filters: RecipientFilterForm, after: str | None
) -> dict[str, Any]:
    rows = Recipient.objects.filter(campaign=campaign)
    query: dict[str, str] = {}
    if filters.is_valid():
        state = filters.cleaned_data.get("state")
        prefix = filters.cleaned_data.get("to")
        if state:
            rows = rows.filter(state=state)
            query["state"] = state
        if prefix:
            # A range on the unique (campaign, To) index; To holds digits only.
            rows = rows.filter(to__gte=prefix, to__lte=prefix + "9" * 32)
            query["to"] = prefix
    if after:
        rows = rows.filter(to__gt=after)
    page = list(
        rows.order_by("to").only(
            "to",
            "state",
            "params",
            "task_id",
            "message_id",
            "error_code",
            "error_message",
            "accepted_at",
            "delivered_at",
            "read_at",
            "failed_at",
        )[: PAGE_SIZE + 1]
    )
    more = len(page) > PAGE_SIZE
    page = page[:PAGE_SIZE]
    return {
        "recipients": page,
        "next_after": page[-1].to if more else None,
        "filter_query": "&".join(f"{key}={value}" for key, value in query.items()),
        "first_page": not after,
    }


@require_role(Role.VIEWER)
def campaign_recipients(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign(pk)
    filters = RecipientFilterForm(request.GET or None)
    context = {"campaign": campaign, "filters": filters}
    context |= _recipients_page(campaign, filters, request.GET.get("after"))
    return render(request, "messaging/campaigns/_recipients.html", context)


# -- recipients file ------------------------------------------------------------------------


@csrf_exempt  # checked below, once the upload handler is in place (Django's documented way)
@require_role(Role.OPERATOR)
@require_POST
def campaign_upload(request: HttpRequest, pk: int) -> HttpResponse:
    capped = CappedUpload(settings.CAMPAIGN_UPLOAD_MAX_BYTES, request)
    request.upload_handlers.insert(0, capped)
    return _campaign_upload(request, pk, capped)


@csrf_protect
def _campaign_upload(request: HttpRequest, pk: int, capped: CappedUpload) -> HttpResponse:
    campaign = _campaign(pk)
    form = UploadForm(request.POST, request.FILES)
    if capped.exceeded:
        limit = settings.CAMPAIGN_UPLOAD_MAX_BYTES // (1024 * 1024)
        messages.error(request, f"The file is larger than the {limit} MB allowed.")
        return redirect(campaign.get_absolute_url())
    if not form.is_valid():
        for error in form.errors.get("file", ["Choose a CSV file."]):
            messages.error(request, str(error))
        return redirect(campaign.get_absolute_url())
    try:
        imp = actions.upload(Actor.from_request(request), campaign, form.cleaned_data["file"])
    except (UnreadableFile, actions.Refused) as exc:
        messages.error(request, str(exc))
        return redirect(campaign.get_absolute_url())
    return redirect("campaignimport-mapping", pk=imp.pk)


@require_role(Role.OPERATOR)
def import_mapping(request: HttpRequest, pk: int) -> HttpResponse:
    imp = get_object_or_404(
        CampaignImport.objects.select_related("campaign__channel", "campaign__variant__template"),
        pk=pk,
    )
    if imp.state != CampaignImport.State.UPLOADED:
        return redirect(imp.campaign.get_absolute_url())
    form = MappingForm(imp, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.start_import(Actor.from_request(request), imp, form.mapping())
        except actions.Refused as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"Importing {imp.file_name}…")
        return redirect(imp.campaign.get_absolute_url())
    return render(
        request,
        "messaging/campaigns/mapping.html",
        {"imp": imp, "form": form, "campaign": imp.campaign},
        status=400 if request.method == "POST" else 200,
    )


@require_role(Role.VIEWER)
def import_status(request: HttpRequest, pk: int) -> HttpResponse:
    imp = get_object_or_404(CampaignImport.objects.select_related("campaign"), pk=pk)
    context = {"import": imp, "can_operate": has_role(request.user, Role.OPERATOR)}
    response = render(request, "messaging/campaigns/_import.html", context)
    if imp.finished and _htmx(request):
        response["HX-Refresh"] = "true"  # the whole page changes: pre-flight, controls
    return response


@require_role(Role.OPERATOR)
def import_report(request: HttpRequest, pk: int) -> HttpResponseBase:
    """The rows an import left out, with why: an export, so it is in the history."""
    imp = get_object_or_404(CampaignImport.objects.select_related("campaign"), pk=pk)
    if not imp.report_path:
        messages.info(request, "This import has no report of left-out rows.")
        return redirect(imp.campaign.get_absolute_url())
    try:
        path = stored_path(imp.report_path)
        handle = path.open("rb")
    except (OSError, ValueError) as exc:
        raise Http404("The report is gone.") from exc
    actions.record_export(
        Actor.from_request(request), imp.campaign, "import_report.export", {"import": imp.pk}
    )
    name = f"campaign-{imp.campaign_id}-left-out-rows.csv"
    return FileResponse(handle, as_attachment=True, filename=name, content_type="text/csv")


# -- controls ---------------------------------------------------------------------------------


def _control(request: HttpRequest, pk: int, act: Any, done: str) -> HttpResponse:
    campaign = _campaign(pk)
    try:
        result = act(Actor.from_request(request), campaign)
    except actions.Refused as exc:
        messages.error(request, str(exc))
    else:
        text = done.format(count=result) if isinstance(result, int) else done
        messages.success(request, text)
    return redirect(campaign.get_absolute_url())


@require_role(Role.OPERATOR)
@require_POST
def campaign_launch(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign(pk)
    try:
        launched = actions.launch(Actor.from_request(request), campaign)
    except actions.Refused as exc:
        messages.error(request, str(exc))
    else:
        if launched.status == Campaign.Status.SCHEDULED and launched.scheduled_at:
            when = timezone.localtime(launched.scheduled_at)
            messages.success(request, f"Scheduled for {when:%Y-%m-%d %H:%M %Z}.")
        else:
            messages.success(request, "Launched.")
    return redirect(campaign.get_absolute_url())


@require_role(Role.OPERATOR)
@require_POST
def campaign_pause(request: HttpRequest, pk: int) -> HttpResponse:
    return _control(request, pk, actions.pause, "Paused: calls in flight finish, no new ones.")


@require_role(Role.OPERATOR)
@require_POST
def campaign_resume(request: HttpRequest, pk: int) -> HttpResponse:
    return _control(request, pk, actions.resume, "Resumed.")


@require_role(Role.OPERATOR)
@require_POST
def campaign_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    return _control(request, pk, actions.cancel, "Cancelled: nothing more will be sent.")


@require_role(Role.OPERATOR)
@require_POST
def campaign_retry(request: HttpRequest, pk: int) -> HttpResponse:
    return _control(request, pk, actions.retry_failed, "Sending again to {count:,} recipients.")


@require_role(Role.OPERATOR)
@require_POST
def campaign_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    decision = request.POST.get("decision", "check")
    if decision == "resend":
        return _control(
            request,
            pk,
            lambda actor, c: actions.resolve_unknowns(actor, c, resend=True),
            "Sending again to {count:,} recipients whose outcome was unknown.",
        )
    if decision == "skip":
        return _control(
            request,
            pk,
            lambda actor, c: actions.resolve_unknowns(actor, c, resend=False),
            "{count:,} recipients whose outcome was unknown are marked as not sent.",
        )
    return _control(
        request, pk, actions.check_unknowns, "Asking CAMS about every call with an unknown outcome."
    )


@require_role(Role.OPERATOR)
def campaign_export(request: HttpRequest, pk: int) -> HttpResponseBase:
    """Every recipient's fate as CSV, streamed (formula-safe cells: csv_export.safe_cell)."""
    campaign = _campaign(pk)
    filters = RecipientFilterForm(request.GET or None)
    rows = Recipient.objects.filter(campaign=campaign)
    applied: dict[str, str] = {}
    if filters.is_valid() and filters.cleaned_data.get("state"):
        rows = rows.filter(state=filters.cleaned_data["state"])
        applied["state"] = filters.cleaned_data["state"]
    names = _variable_names(campaign)
    actions.record_export(Actor.from_request(request), campaign, "export", applied)
    header = EXPORT_COLUMNS[:1] + [f"{{{{{name}}}}}" for name in names] + ["Payload"]
    header += EXPORT_COLUMNS[1:]

    def stamp(value: Any) -> str:
        return timezone.localtime(value).isoformat(timespec="seconds") if value else ""

    def lines() -> Any:
        fields = (
            "to",
            "params",
            "payload",
            "state",
            "task_id",
            "message_id",
            "error_code",
            "error_message",
            "sending_at",
            "accepted_at",
            "sent_at",
            "delivered_at",
            "read_at",
            "failed_at",
            "row",
        )
        for item in rows.order_by("to").values_list(*fields).iterator(chunk_size=5000):
            to, params, payload, state, task, message, code, text, *times, row = item
            variables = [str((params or {}).get(name, "")) for name in names]
            payload_text = json.dumps(payload, ensure_ascii=False) if payload else ""
            yield (
                [to, *variables, payload_text, state, task, message, code, text]
                + [stamp(value) for value in times]
                + [row]
            )

    return csv_response(f"campaign-{campaign.pk}-recipients.csv", header, lines())


def _variable_names(campaign: Campaign) -> list[str]:
    first = Recipient.objects.filter(campaign=campaign).values_list("params", flat=True).first()
    return sorted((first or {}).keys(), key=lambda name: (len(name), name))
