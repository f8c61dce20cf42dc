"""Reading messages: the list with filters and keyset pagination, a message's page with its
live status timeline, and resending a message whose outcome is unknown."""

import datetime
from typing import Any

from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from camsconsole import history
from camsconsole.audit import Actor
from camsconsole.roles import Role, require_role
from messaging import actions, receipts
from messaging.forms import MessageFilterForm
from messaging.models import Message

PAGE_SIZE = 50


def filtered(form: MessageFilterForm) -> QuerySet[Message]:
    rows = Message.objects.select_related("channel", "sender")
    if not form.is_valid():
        return rows
    data = form.cleaned_data
    if data.get("channel"):
        rows = rows.filter(channel=data["channel"])
    if data.get("sender"):
        rows = rows.filter(sender=data["sender"])
    if data.get("state"):
        rows = rows.filter(state=data["state"])
    if data.get("to"):
        rows = rows.filter(to=data["to"].strip().lstrip("+"))
    tz = timezone.get_current_timezone()
    if data.get("date_from"):
        start = datetime.datetime.combine(data["date_from"], datetime.time.min, tz)
        rows = rows.filter(created_at__gte=start)
    if data.get("date_to"):
        end = datetime.datetime.combine(
            data["date_to"] + datetime.timedelta(days=1), datetime.time.min, tz
        )
        rows = rows.filter(created_at__lt=end)
    return rows


@require_role(Role.VIEWER)
def message_list(request: HttpRequest) -> HttpResponse:
    form = MessageFilterForm(request.GET or None)
    rows = filtered(form)
    before = request.GET.get("before")
    if before and before.isdigit():
        rows = rows.filter(pk__lt=int(before))
    page = list(rows.order_by("-pk")[: PAGE_SIZE + 1])
    more = len(page) > PAGE_SIZE
    page = page[:PAGE_SIZE]
    query = request.GET.copy()
    query.pop("before", None)
    context = {
        "form": form,
        "rows": page,
        "next_before": page[-1].pk if more else None,
        "query": query.urlencode(),
        "first_page": not before,
    }
    return render(request, "messaging/list.html", context)


def _status_context(message: Message) -> dict[str, Any]:
    return {
        "message": message,
        "timeline": receipts.timeline(message),
        "polling": not message.is_final,
    }


@require_role(Role.VIEWER)
def message_detail(request: HttpRequest, pk: int) -> HttpResponse:
    message = get_object_or_404(
        Message.objects.select_related("channel__account", "sender", "resend_of"), pk=pk
    )
    context = _status_context(message) | {
        "events": history.for_object(message),
        "resends": list(message.resends.all()),
        "resendable": message.state in actions.RESENDABLE,
    }
    return render(request, "messaging/detail.html", context)


@require_role(Role.VIEWER)
def message_status(request: HttpRequest, pk: int) -> HttpResponse:
    """The live part of the message page, polled by htmx until the status is final."""
    message = get_object_or_404(Message.objects.select_related("channel", "sender"), pk=pk)
    return render(request, "messaging/_status.html", _status_context(message))


@require_POST
@require_role(Role.OPERATOR)
def message_resend(request: HttpRequest, pk: int) -> HttpResponse:
    message = get_object_or_404(Message, pk=pk)
    if request.POST.get("confirm") != "1":
        messages.error(
            request, "Tick the box to confirm that the recipient may get the message twice."
        )
        return redirect(message)
    try:
        copy = actions.resend(Actor.from_request(request), message)
    except actions.Refused as exc:
        messages.error(request, str(exc))
        return redirect(message)
    messages.success(request, f"Resent as message #{copy.pk} with a new TaskId.")
    return redirect(copy)
