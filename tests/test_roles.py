"""Walks every URL of the console as anonymous, viewer, operator and admin.

EXPECTED names the least role of every named URL; the walk fails when a URL is added without an
entry here, so a new view cannot forget to state who may use it.
"""

from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from camsconsole.roles import Role
from tests.conftest import client_for

V, OP, A = Role.VIEWER, Role.OPERATOR, Role.ADMIN

# url name -> (least role, method, expected status for an allowed user)
EXPECTED: dict[str, tuple[Role, str, int]] = {
    "home": (V, "get", 200),
    "account-list": (V, "get", 200),
    "account-detail": (V, "get", 200),
    "account-check": (V, "get", 200),
    "account-create": (A, "get", 200),
    "account-edit": (A, "get", 200),
    "account-test": (A, "post", 302),
    "account-active": (A, "post", 302),
    "channel-list": (V, "get", 200),
    "channel-detail": (V, "get", 200),
    "channel-create": (A, "get", 200),
    "channel-edit": (A, "get", 200),
    "channel-rotate": (A, "post", 302),
    "channel-active": (A, "post", 302),
    "sender-list": (V, "get", 200),
    "sender-detail": (V, "get", 200),
    "sender-create": (A, "get", 200),
    "sender-edit": (A, "get", 200),
    "sender-active": (A, "post", 302),
    "user-list": (A, "get", 200),
    "user-detail": (A, "get", 200),
    "user-create": (A, "get", 200),
    "user-edit": (A, "get", 200),
    "user-active": (A, "post", 302),
    "history": (V, "get", 200),
    "history-export": (V, "get", 200),
    "template-list": (V, "get", 200),
    "template-detail": (V, "get", 200),
    "template-create": (OP, "get", 200),
    "template-validate": (OP, "post", 200),
    "template-import": (OP, "get", 200),
    "template-duplicate": (OP, "post", 302),
    "template-delete": (OP, "get", 200),
    "variant-status": (V, "get", 200),
    "variant-versions": (V, "get", 200),
    "variant-edit": (OP, "get", 200),
    "variant-translate": (OP, "get", 200),
    "variant-submit": (OP, "post", 302),
    "variant-refresh": (OP, "post", 302),
    "variant-delete": (OP, "get", 200),
    "job-status": (V, "get", 200),
    "message-list": (V, "get", 200),
    "message-send": (OP, "get", 200),
    "message-window": (OP, "get", 200),
    "message-detail": (V, "get", 200),
    "message-status": (V, "get", 200),
    # Without the confirmation box ticked: refused with a message, back to the page.
    "message-resend": (OP, "post", 302),
    "conversation-list": (V, "get", 200),
    "conversation-detail": (V, "get", 200),
    # An empty reply: the thread again, with the error.
    "conversation-reply": (OP, "post", 200),
    "suppression-list": (V, "get", 200),
    "suppression-add": (OP, "get", 200),
    "suppression-lift": (OP, "post", 302),
    "campaign-list": (V, "get", 200),
    "campaign-create": (OP, "get", 200),
    "campaign-detail": (V, "get", 200),
    "campaign-edit": (OP, "get", 200),
    "campaign-progress": (V, "get", 200),
    "campaign-stats": (V, "get", 200),
    "campaign-recipients": (V, "get", 200),
    # The walk's campaign is a draft without recipients: each control is refused with a
    # message, back to the campaign page.
    "campaign-upload": (OP, "post", 302),
    "campaign-launch": (OP, "post", 302),
    "campaign-pause": (OP, "post", 302),
    "campaign-resume": (OP, "post", 302),
    "campaign-cancel": (OP, "post", 302),
    "campaign-retry": (OP, "post", 302),
    "campaign-resolve": (OP, "post", 302),
    "campaign-export": (OP, "get", 200),
    "campaignimport-mapping": (OP, "get", 200),
    "campaignimport-status": (V, "get", 200),
    # No report yet: back to the campaign page.
    "campaignimport-report": (OP, "get", 302),
}

# Public on purpose, each for its own reason. receipt-hook: CAMS cannot log in; the unguessable
# token in its path is the credential (tests/messaging/test_receipts.py).
PUBLIC = {"login", "logout", "healthz", "receipt-hook"}
# Third-party sites with their own login: checked separately below.
MOUNTED = ("admin:", "django_rq:")


def named_urls(resolver: URLResolver | None = None, prefix: str = "") -> set[str]:
    names: set[str] = set()
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            ns = f"{prefix}{entry.namespace}:" if entry.namespace else prefix
            names |= named_urls(entry, ns)
        elif isinstance(entry, URLPattern) and entry.name:
            names.add(prefix + entry.name)
    return names


def test_it_lists_every_console_url() -> None:
    console = {n for n in named_urls() if not n.startswith(MOUNTED)}
    assert console - PUBLIC == set(EXPECTED), "add the new URL to EXPECTED with its least role"


@pytest.fixture
def objects(sender: Any, admin_user: Any) -> dict[str, Any]:
    from templates_app.models import Template, TemplateJob

    template = Template.objects.create(channel=sender.channel, name="walk", category="UTILITY")
    variant = template.variants.create(language="en")
    job = TemplateJob.objects.create(kind=TemplateJob.Kind.REFRESH, variant=variant)
    return {
        "account": sender.channel.account.pk,
        "channel": sender.channel.pk,
        "sender": sender.pk,
        "user": admin_user.pk,
        "template": template.pk,
        "variant": variant.pk,
        "job": job.pk,
        **_messaging_objects(sender),
        **_campaign_objects(sender, variant),
    }


def _campaign_objects(sender: Any, variant: Any) -> dict[str, Any]:
    from messaging.campaigns.models import Campaign, CampaignImport

    campaign = Campaign.objects.create(
        name="walk", channel=sender.channel, sender=sender, variant=variant
    )
    upload = CampaignImport.objects.create(
        campaign=campaign, file_name="walk.csv", path="walk.csv", columns=["phone"]
    )
    return {"campaign": campaign.pk, "campaignimport": upload.pk}


def _messaging_objects(sender: Any) -> dict[str, Any]:
    from django.utils import timezone

    from messaging.models import Conversation, Message, Suppression

    message = Message.objects.create(
        channel=sender.channel, sender=sender, to="6590002222", kind="template"
    )
    conversation = Conversation.objects.create(
        channel=sender.channel,
        business_number=sender.sender_id,
        user="6590002222",
        last_inbound_at=timezone.now(),
    )
    suppression = Suppression.objects.create(
        channel=sender.channel,
        business_number=sender.sender_id,
        user="6590003333",
        source="operator",
        changed_at=timezone.now(),
    )
    return {
        "message": message.pk,
        "conversation": conversation.pk,
        "suppression": suppression.pk,
    }


def url_for(name: str, objects: dict[str, Any]) -> str:
    kind = name.split("-")[0]
    try:
        return reverse(name)
    except Exception:
        return reverse(name, args=[objects[kind]])


@pytest.mark.parametrize("name", sorted(EXPECTED))
@pytest.mark.parametrize(
    "as_role", [None, V, OP, A], ids=["anonymous", "viewer", "operator", "admin"]
)
def test_it_answers_each_role_as_expected(
    name: str, as_role: Role | None, objects: dict[str, Any], django_user_model: Any
) -> None:
    least, method, allowed_status = EXPECTED[name]
    if as_role is None:
        client = Client()
    else:
        from tests.conftest import make_user

        client = client_for(make_user(f"walker-{as_role.name.lower()}", as_role))
    url = url_for(name, objects)
    data = {"active": "1"} if method == "post" else None
    response = getattr(client, method)(url, data)
    if as_role is None:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    elif as_role < least:
        assert response.status_code == 403
    else:
        assert response.status_code == allowed_status, response.content[:500]


def test_it_gives_a_user_without_a_role_nothing(db: None) -> None:
    from tests.conftest import make_user

    client = client_for(make_user("nobody", None))
    assert client.get(reverse("home")).status_code == 403


@pytest.mark.parametrize("path", ["/admin/", "/admin/camsconsole/auditevent/", "/admin/rq/"])
def test_it_keeps_the_admin_sites_for_admins(
    path: str, admin_client: Client, operator_client: Client, viewer_client: Client
) -> None:
    assert admin_client.get(path).status_code == 200
    for client in (operator_client, viewer_client):
        response = client.get(path)
        assert response.status_code in (302, 403)
        if response.status_code == 302:
            assert "login" in response["Location"]
