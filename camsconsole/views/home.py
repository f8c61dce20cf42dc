from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import render
from django.templatetags.static import static

from camsconsole.models import Account, AuditEvent, Channel, Sender
from camsconsole.roles import Role, require_role


@require_role(Role.VIEWER)
def home(request: HttpRequest) -> HttpResponse:
    context = {
        "counts": {
            "accounts": Account.objects.filter(is_active=True).count(),
            "channels": Channel.objects.filter(is_active=True).count(),
            "senders": Sender.objects.filter(is_active=True).count(),
        },
        "recent": AuditEvent.objects.all()[:10],
    }
    return render(request, "camsconsole/home.html", context)


def favicon(request: HttpRequest) -> HttpResponse:
    """Public: browsers ask for it on pages that name no icon (the admin, the RQ dashboard)."""
    return HttpResponsePermanentRedirect(static("favicon.svg"))
