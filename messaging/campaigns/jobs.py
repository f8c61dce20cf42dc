"""RQ jobs of campaigns. Each takes ids and calls into a domain module."""

from django.utils import timezone

from messaging import sweeper
from messaging.campaigns import actions, imports, sweep
from messaging.campaigns import dispatch as sending


def import_recipients(import_id: int) -> None:
    sweeper.ensure_sweeper()
    imports.run(import_id)


def dispatch(campaign_id: int, run: int) -> None:
    sweeper.ensure_sweeper()
    sending.send(campaign_id, run)


def start_scheduled(campaign_id: int) -> None:
    sweeper.ensure_sweeper()
    actions.start_scheduled(campaign_id)


def cancel_pending(campaign_id: int) -> None:
    actions.cancel_pending(campaign_id)


def reconcile(campaign_id: int) -> None:
    sweep.reconcile(timezone.now(), campaign_id=campaign_id, force=True)
