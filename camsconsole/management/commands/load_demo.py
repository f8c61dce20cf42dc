from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from camsconsole.audit import SYSTEM, record, snapshot
from camsconsole.models import Account, Channel, ChannelType, Sender
from camsconsole.roles import Role, assign_role

DEMO_ADMIN = "admin"
DEMO_PASSWORD = "cams-demo-admin"  # noqa: S105  (the documented demo login of `make run`)

# One channel per type, each with one sender whose From passes the rules of its type.
DEMO_CHANNELS = [
    (ChannelType.WHATSAPP, "demo-whatsapp", "6580001111", "Demo WhatsApp"),
    (ChannelType.VIBER, "demo-viber", "2000000001", "Demo Viber"),
    (ChannelType.MESSENGER, "demo-messenger", "102030405060708", "Demo Messenger"),
    (ChannelType.INSTAGRAM, "demo-instagram", "17841400000000001", "Demo Instagram"),
]


class Command(BaseCommand):
    help = "Create (or bring up to date) the demo account, channels, senders and admin login."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        account, created = Account.objects.get_or_create(
            name="Sandbox",
            defaults={
                "endpoint": settings.CAMS_ENDPOINT,
                "access_key_id": settings.CAMS_ACCESS_KEY_ID,
            },
        )
        # Re-pointed on every run, so a changed CAMS_* environment takes effect.
        account.endpoint = settings.CAMS_ENDPOINT
        account.access_key_id = settings.CAMS_ACCESS_KEY_ID
        account.set_secret(settings.CAMS_ACCESS_KEY_SECRET)
        account.save()
        if created:
            record(SYSTEM, "account.create", account, after=snapshot(account))
        for channel_type, space, sender_id, name in DEMO_CHANNELS:
            channel, made = Channel.objects.get_or_create(
                account=account,
                channel_type=channel_type,
                cust_space_id=space,
                defaults={"name": name},
            )
            if made:
                record(SYSTEM, "channel.create", channel, after=snapshot(channel))
            sender, made = Sender.objects.get_or_create(
                channel=channel, sender_id=sender_id, defaults={"display_name": f"{name} sender"}
            )
            if made:
                record(SYSTEM, "sender.create", sender, after=snapshot(sender))
        self._demo_admin()
        self.stdout.write(
            f"Demo data ready. Log in as {DEMO_ADMIN} / {DEMO_PASSWORD} (demo only: change it)."
        )

    def _demo_admin(self) -> None:
        user, made = get_user_model().objects.get_or_create(username=DEMO_ADMIN)
        if made:
            user.set_password(DEMO_PASSWORD)
            user.save()
            assign_role(user, Role.ADMIN)
            record(SYSTEM, "user.create", user, after={"username": DEMO_ADMIN, "role": "admin"})
