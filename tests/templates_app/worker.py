"""Running the real RQ queue inside the test process.

`InlineWorker` is RQ's SimpleWorker made fit for any thread: no signal handlers (only the main
thread may install them) and a timer instead of SIGALRM for job timeouts. `move_due` does what a
worker started with `--with-scheduler` does: it enqueues the scheduled jobs whose time has come.
"""

from rq import Queue, SimpleWorker
from rq.scheduler import RQScheduler
from rq.timeouts import TimerDeathPenalty


class InlineWorker(SimpleWorker):
    death_penalty_class = TimerDeathPenalty

    def _install_signal_handlers(self) -> None:
        pass


def move_due(queue: Queue) -> None:
    scheduler = RQScheduler([queue], connection=queue.connection)
    scheduler.acquire_locks()
    try:
        scheduler.enqueue_scheduled_jobs()
    finally:
        scheduler.release_locks()


def work(queue: Queue) -> bool:
    """Run every job queued now; whether there were any."""
    return InlineWorker([queue], connection=queue.connection).work(burst=True)
