"""RQ jobs of Template Design. Each takes ids and calls into a domain module."""

from rq import get_current_job

from camsconsole.cams.errors import CamsError
from templates_app import lifecycle, schedule, sync
from templates_app.models import Variant


def submit(job_id: int) -> None:
    lifecycle.run(job_id, lifecycle.submit)


def refresh(job_id: int) -> None:
    lifecycle.run(job_id, lifecycle.refresh)


def delete_language(job_id: int) -> None:
    lifecycle.run(job_id, lifecycle.delete_language)


def delete_template(job_id: int) -> None:
    lifecycle.run(job_id, lifecycle.delete_template)


def import_templates(job_id: int) -> None:
    lifecycle.run(job_id, sync.import_channel)


def check_review(variant_id: int, attempt: int) -> None:
    """One look at a fresh submission's review; another later while it is still undecided."""
    variant = Variant.objects.select_related("template__channel__account").filter(pk=variant_id)
    found = variant.first()
    if found is None or not found.in_review:
        return
    try:
        undecided = lifecycle.refresh_variant(found).in_review
    except CamsError:
        undecided = True  # CAMS unreachable for now: look again at the next delay
    if undecided:
        schedule.watch_review(variant_id, attempt)


def sync_all() -> None:
    """The periodic sync; a run that does not own the chain is a stray duplicate and stops."""
    current = get_current_job()
    if current is not None and current.id != schedule.chain_job_id():
        return
    try:
        sync.sync_channels()
    finally:
        if current is not None:
            schedule.schedule_sync()
