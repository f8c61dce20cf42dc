"""The RQ worker the console runs (settings.RQ["WORKER_CLASS"], so `manage.py rqworker` uses it).

rq's own Worker looks for a lost scheduler only during maintenance, every ten minutes, and an
idle worker even waits in Redis (BLPOP) for about seven minutes before it looks: when the worker
that held the scheduler lock dies (kill -9, out of memory), scheduled jobs (the messaging
sweeper's chain, retries after throttling, scheduled campaign starts) would wait that long. This
one looks every MAINTENANCE_SECONDS, so another worker takes the scheduler over within about a
minute (the lock's own lifetime). It also imports the job modules once in the parent process, so
a forked work-horse starts its job without importing them again.
"""

from typing import Any

from rq import Worker as RQWorker

import messaging.campaigns.jobs  # preloaded for the work-horses
import messaging.jobs  # noqa: F401 - preloaded for the work-horses

MAINTENANCE_SECONDS = 15


class Worker(RQWorker):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("maintenance_interval", MAINTENANCE_SECONDS)
        super().__init__(*args, **kwargs)

    @property
    def dequeue_timeout(self) -> int:
        # An idle worker leaves its blocking wait this often to run maintenance.
        return min(super().dequeue_timeout, MAINTENANCE_SECONDS)
