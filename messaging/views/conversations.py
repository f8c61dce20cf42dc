"""Conversations: per sender, the users who wrote with their last message and window; a thread
of inbound and outbound messages; the reply box (free-form inside the window, a template link
outside it)."""

from itertools import chain
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from camsconsole.audit import Actor
from camsconsole.models import Sender
from camsconsole.roles import Role, require_role
from messaging import actions
from messaging.forms import ReplyForm
from messaging.models import Conversation, InboundMessage, Message

PAGE_SIZE = 100
THREAD_SIZE = 200


@require_role(Role.VIEWER)
def conversation_list(request: HttpRequest) -> HttpResponse:
    senders = list(Sender.objects.select_related("channel").order_by("display_name"))
    raw = request.GET.get("sender") or ""
    sender = next((s for s in senders if str(s.pk) == raw), senders[0] if senders else None)
    rows: list[Conversation] = []
    if sender is not None:
        rows = list(
            Conversation.objects.filter(
                channel_id=sender.channel_id, business_number=sender.sender_id
            )
            .select_related("last_inbound")
            .order_by("-last_inbound_at")[:PAGE_SIZE]
        )
    context = {"senders": senders, "sender": sender, "rows": rows}
    return render(request, "messaging/conversations.html", context)


def _sender_of(conversation: Conversation) -> Sender | None:
    return (
        Sender.objects.select_related("channel")
        .filter(channel_id=conversation.channel_id, sender_id=conversation.business_number)
        .first()
    )


def _thread(conversation: Conversation, sender: Sender | None) -> list[tuple[str, Any, Any]]:
    inbound = InboundMessage.objects.filter(
        channel_id=conversation.channel_id,
        business_number=conversation.business_number,
        user=conversation.user,
    ).order_by("-occurred_at")[:THREAD_SIZE]
    outbound: Any = []
    if sender is not None:
        outbound = Message.objects.filter(sender=sender, to=conversation.user).order_by("-pk")[
            :THREAD_SIZE
        ]
    items = chain(
        (("in", item.occurred_at, item) for item in inbound),
        (("out", item.created_at, item) for item in outbound),
    )
    return sorted(items, key=lambda entry: entry[1])[-THREAD_SIZE:]


def _thread_context(conversation: Conversation, form: ReplyForm | None) -> dict[str, Any]:
    sender = _sender_of(conversation)
    template_url = ""
    if sender is not None:
        template_url = (
            reverse("message-send")
            + f"?channel={sender.channel_id}&sender={sender.pk}&to={conversation.user}"
            + "&kind=template"
        )
    if form is None and sender is not None:
        form = ReplyForm(sender=sender, user=conversation.user)
    return {
        "conversation": conversation,
        "sender": sender,
        "thread": _thread(conversation, sender),
        "form": form,
        "template_url": template_url,
    }


@require_role(Role.VIEWER)
def conversation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = get_object_or_404(Conversation.objects.select_related("channel"), pk=pk)
    return render(request, "messaging/thread.html", _thread_context(conversation, None))


@require_POST
@require_role(Role.OPERATOR)
def conversation_reply(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = get_object_or_404(Conversation.objects.select_related("channel"), pk=pk)
    sender = _sender_of(conversation)
    if sender is None or not sender.is_active:
        messages.error(request, "No active sender has this number: set one up to reply.")
        return redirect(conversation)
    form = ReplyForm(request.POST, sender=sender, user=conversation.user)
    if not form.is_valid():
        context = _thread_context(conversation, form)
        return render(request, "messaging/thread.html", context)
    message = actions.send(Actor.from_request(request), form.build())
    messages.success(request, f"Reply queued as message #{message.pk}.")
    return redirect(conversation)
