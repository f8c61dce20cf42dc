"""The sweeper's chain on RQ's scheduler, and its command."""

from io import StringIO

from django.core.management import call_command

from messaging import queues, sweeper
from tests.messaging.conftest import RunJobs, forget_scheduled


def test_it_keeps_one_sweep_chain_alive(run_jobs: RunJobs) -> None:
    queue = queues.queue(queues.DISPATCH)
    forget_scheduled(queue)
    assert sweeper.ensure_sweeper() is True
    assert sweeper.ensure_sweeper() is False  # alive: not started twice
    scheduled = queue.scheduled_job_registry.get_job_ids()
    assert scheduled == [sweeper.chain_job_id()]
    # A stray run (not the chain's) does nothing and schedules nothing.
    queue.enqueue("messaging.jobs.sweep")
    run_jobs()
    assert queue.scheduled_job_registry.get_job_ids() == scheduled


def test_it_runs_a_sweep_from_the_command(db: None) -> None:
    out = StringIO()
    call_command("messaging_sweep", stdout=out)
    assert "claims_released 0" in out.getvalue()
    call_command("messaging_sweep", "--schedule", stdout=out)
    assert "sweep chain" in out.getvalue()
    forget_scheduled(queues.queue(queues.DISPATCH))
