"""Template work that happens by itself: watching a fresh submission's review, and the periodic
status sync.

Both use RQ's built-in scheduler (`Queue.enqueue_in`; workers run with `--with-scheduler`, as
`make run` starts them), so neither needs a process or package of its own.

The periodic sync is a chain: each run schedules the next. A Redis key names the one scheduled
job that may continue the chain, so starting it twice (two machines running
`manage.py sync_templates --schedule`) still leaves a single chain: a run that is not the named
one ends at once, without a successor. A lost chain (Redis flushed) is restarted by that command.
"""

from datetime import timedelta

import django_rq
from django.conf import settings
from rq.job import JobStatus
from rq.queue import Queue

CHAIN_KEY = "templates_app:sync:next"
LIVE = {JobStatus.SCHEDULED, JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED}


def _queue() -> Queue:
    return django_rq.get_queue("default")


def watch_review(variant_id: int, attempt: int = 0) -> None:
    """Look at the review again after the next delay, while checks remain."""
    delays = settings.TEMPLATE_REVIEW_CHECKS
    if attempt < len(delays):
        _queue().enqueue_in(
            timedelta(seconds=delays[attempt]),
            "templates_app.jobs.check_review",
            variant_id,
            attempt + 1,
        )


def schedule_sync(delay: float | None = None) -> str:
    """Schedule the next run of the chain and make it the one that continues it."""
    queue = _queue()
    seconds = settings.TEMPLATE_SYNC_INTERVAL if delay is None else delay
    job = queue.enqueue_in(timedelta(seconds=seconds), "templates_app.jobs.sync_all")
    queue.connection.set(CHAIN_KEY, job.id)
    return job.id


def chain_job_id() -> str | None:
    value = _queue().connection.get(CHAIN_KEY)
    return value.decode() if isinstance(value, bytes) else value


def ensure_sync() -> bool:
    """Start the chain unless it is alive; whether it was started."""
    current = chain_job_id()
    job = _queue().fetch_job(current) if current else None
    if job is not None and job.get_status() in LIVE:
        return False
    schedule_sync(delay=0)
    return True
