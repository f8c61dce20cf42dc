"""Accounts, channels and senders: lists, detail pages, add/edit, disable/enable."""

from typing import cast

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from camsconsole import actions, history
from camsconsole.audit import Actor
from camsconsole.forms import AccountForm, ChannelForm, SenderForm
from camsconsole.models import Account, Channel, Sender
from camsconsole.roles import Role, require_role
from camsconsole.views.forms import form_page


@require_role(Role.VIEWER)
def account_list(request: HttpRequest) -> HttpResponse:
    accounts = Account.objects.all()
    return render(request, "camsconsole/account_list.html", {"accounts": accounts})


@require_role(Role.VIEWER)
def account_detail(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(Account, pk=pk)
    context = {
        "account": account,
        "channels": account.channels.all(),
        "qps": [(op, account.qps(op)) for op in account.qps_limits],
        "events": history.for_object(account),
    }
    return render(request, "camsconsole/account_detail.html", context)


@require_role(Role.VIEWER)
def account_check_status(request: HttpRequest, pk: int) -> HttpResponse:
    """The "test connection" result, polled by htmx while a check runs."""
    account = get_object_or_404(Account, pk=pk)
    return render(request, "camsconsole/_account_check.html", {"account": account})


@require_role(Role.ADMIN)
def account_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    account = get_object_or_404(Account, pk=pk) if pk else Account()
    form = AccountForm(request.POST or None, instance=account)
    return form_page(
        request,
        form,
        title=f"Edit {account}" if pk else "New account",
        template="camsconsole/account_form.html",
        save=lambda: actions.save_account(
            Actor.from_request(request), form, form.cleaned_data["access_key_secret"]
        ),
    )


@require_POST
@require_role(Role.ADMIN)
def account_test(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(Account, pk=pk)
    actions.start_connection_check(Actor.from_request(request), account)
    messages.info(request, "Connection test queued.")
    return redirect(account)


@require_role(Role.VIEWER)
def channel_list(request: HttpRequest) -> HttpResponse:
    channels = Channel.objects.select_related("account")
    return render(request, "camsconsole/channel_list.html", {"channels": channels})


@require_role(Role.VIEWER)
def channel_detail(request: HttpRequest, pk: int) -> HttpResponse:
    channel = get_object_or_404(Channel.objects.select_related("account"), pk=pk)
    context = {
        "channel": channel,
        "senders": channel.senders.all(),
        "events": history.for_object(channel),
    }
    return render(request, "camsconsole/channel_detail.html", context)


@require_role(Role.ADMIN)
def channel_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    channel = get_object_or_404(Channel, pk=pk) if pk else Channel()
    initial = {"account": request.GET.get("account")} if not pk else None
    form = ChannelForm(request.POST or None, instance=channel, initial=initial)
    return form_page(
        request,
        form,
        title=f"Edit {channel}" if pk else "New channel",
        save=lambda: actions.save_form(Actor.from_request(request), form),
    )


@require_POST
@require_role(Role.ADMIN)
def channel_rotate_token(request: HttpRequest, pk: int) -> HttpResponse:
    channel = get_object_or_404(Channel, pk=pk)
    actions.rotate_hook_token(Actor.from_request(request), channel)
    messages.success(
        request,
        "New callback URL made. The previous one keeps working until the next rotation: "
        "paste the new one into CAMS.",
    )
    return redirect(channel)


@require_role(Role.VIEWER)
def sender_list(request: HttpRequest) -> HttpResponse:
    senders = Sender.objects.select_related("channel")
    return render(request, "camsconsole/sender_list.html", {"senders": senders})


@require_role(Role.VIEWER)
def sender_detail(request: HttpRequest, pk: int) -> HttpResponse:
    sender = get_object_or_404(Sender.objects.select_related("channel__account"), pk=pk)
    context = {"sender": sender, "events": history.for_object(sender)}
    return render(request, "camsconsole/sender_detail.html", context)


@require_role(Role.ADMIN)
def sender_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    sender = get_object_or_404(Sender, pk=pk) if pk else Sender()
    initial = {"channel": request.GET.get("channel")} if not pk else None
    form = SenderForm(request.POST or None, instance=sender, initial=initial)
    return form_page(
        request,
        form,
        title=f"Edit {sender}" if pk else "New sender",
        save=lambda: actions.save_form(Actor.from_request(request), form),
    )


MODELS: dict[str, type[Account] | type[Channel] | type[Sender]] = {
    "account": Account,
    "channel": Channel,
    "sender": Sender,
}


@require_POST
@require_role(Role.ADMIN)
def toggle_active(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """Disable or re-enable an account, channel or sender (POST field `active`: 0 or 1)."""
    model = MODELS.get(kind)
    if model is None:
        return HttpResponse(status=404)
    obj = cast(Account | Channel | Sender, get_object_or_404(model, pk=pk))
    active = request.POST.get("active") == "1"
    actions.set_active(Actor.from_request(request), obj, active)
    messages.success(request, f"{'Enabled' if active else 'Disabled'} {obj}.")
    return redirect(obj.get_absolute_url())
