from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from camsconsole import crypto
from camsconsole.audit import SYSTEM, record
from camsconsole.models import Account


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored secret under the first key of CAMS_ENCRYPTION_KEYS. "
        "Run it after putting a new key first; drop the old key afterwards."
    )

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        count = 0
        for account in Account.objects.select_for_update():
            account.access_key_secret_encrypted = crypto.rotate(account.access_key_secret_encrypted)
            account.save(update_fields=["access_key_secret_encrypted"])
            count += 1
        record(SYSTEM, "settings.rotate_encryption_key", after={"accounts": count})
        self.stdout.write(f"Re-encrypted the secrets of {count} account(s).")
