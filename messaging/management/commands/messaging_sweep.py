"""`manage.py messaging_sweep`: run the messaging sweeper once now, or (--schedule) make sure its
periodic chain on RQ's scheduler is alive. Workers start the chain by themselves when they run
any messaging job; this is for a fresh deployment and after Redis lost its data."""

from typing import Any

from django.core.management.base import BaseCommand

from messaging import sweeper


class Command(BaseCommand):
    help = "Run the messaging sweeper once, or with --schedule make sure its chain is alive."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--schedule",
            action="store_true",
            help="start the periodic sweep chain on RQ's scheduler unless it is alive",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["schedule"]:
            started = sweeper.ensure_sweeper()
            self.stdout.write("sweep chain started" if started else "sweep chain already alive")
            return
        report = sweeper.sweep()
        self.stdout.write(", ".join(f"{name} {count}" for name, count in report.items()))
