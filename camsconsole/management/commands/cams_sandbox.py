"""`manage.py cams_sandbox`: the local CAMS simulator (see camsconsole/cams/sandbox/).

A thin wrapper: the options, their CAMS_SANDBOX_* environment variables and the server all live
in the sandbox package, which stays free of Django.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from camsconsole.cams import sandbox


class Command(BaseCommand):
    help = (
        "Run a local CAMS that verifies signatures, validates requests, enforces QPS limits, "
        "keeps a ledger of sends and pushes receipts. Every option can also be set with an "
        "environment variable CAMS_SANDBOX_<OPTION>."
    )

    def add_arguments(self, parser: Any) -> None:
        sandbox.add_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            config = sandbox.config_from_options(options)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        sandbox.serve(config)  # until Ctrl-C or SIGTERM
