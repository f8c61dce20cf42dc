"""The Send Message page.

GET renders the form; when a choice that shapes it changes (channel, sender, Type, template,
language, MessageType) htmx asks for the page again with the values so far and swaps the form in,
so every MessageType shows exactly its own fields. POST validates and queues.
"""

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from camsconsole.audit import Actor
from camsconsole.models import Sender
from camsconsole.roles import Role, require_role
from messaging import actions, windows
from messaging.forms import SendForm
from messaging.models import Kind
from templates_app import preview


def _context(form: SendForm) -> dict[str, Any]:
    context: dict[str, Any] = {"form": form}
    if form.variant is not None:
        template = form.variant.template
        # Placeholders stay in: static/messaging/send.js fills in the values as they are typed.
        context["preview"] = preview.build(
            template.template_type, template.category, form.variant.components, {}
        )
    return context


@require_role(Role.OPERATOR)
def message_send(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = SendForm(request.POST)
        if form.is_valid():
            message = actions.send(Actor.from_request(request), form.build())
            messages.success(request, f"Queued message #{message.pk} to {message.to}.")
            return redirect(message)
        # 200, not 400: the page is the answer, with each error at its field (browsers report a
        # 4xx page as a failed load).
        return render(request, "messaging/send.html", _context(form))
    # Unbound, with what the link or the last refresh chose as its starting values.
    form = SendForm(initial=request.GET.dict())
    return render(request, "messaging/send.html", _context(form))


@require_role(Role.OPERATOR)
def message_window(request: HttpRequest) -> HttpResponse:
    """The 24-hour window of the sender and To typed so far (a partial, polled by htmx)."""
    sender = (
        Sender.objects.select_related("channel").filter(pk=request.GET.get("sender") or 0).first()
        if (request.GET.get("sender") or "").isdigit()
        else None
    )
    to = (request.GET.get("to") or "").strip()
    context: dict[str, Any] = {"sender": sender, "to": to}
    if sender is not None and to:
        channel_type = sender.channel.channel_type
        context["applies"] = windows.applies(channel_type, Kind.MESSAGE)
        context["closes_at"] = windows.closes_at(sender, to)
        context["open"] = context["closes_at"] is not None and context["closes_at"] > timezone.now()
    return render(request, "messaging/_window.html", context)
