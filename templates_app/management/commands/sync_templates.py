"""`manage.py sync_templates`: read every submitted template's review status from CAMS now, or
(`--schedule`) make sure the periodic sync runs on the RQ workers."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from templates_app import schedule, sync


class Command(BaseCommand):
    help = (
        "Sync the review status and quality of every submitted template from CAMS now. With "
        "--schedule, start the periodic sync on the RQ workers instead (every "
        "TEMPLATE_SYNC_INTERVAL seconds; workers need --with-scheduler). Safe to repeat."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--schedule", action="store_true", help="start the periodic sync")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["schedule"]:
            started = schedule.ensure_sync()
            every = settings.TEMPLATE_SYNC_INTERVAL
            state = "started" if started else "already running"
            self.stdout.write(f"Periodic template sync {state} (every {every} s).")
            return
        self.stdout.write(f"Synced {sync.sync_channels()} templates.")
