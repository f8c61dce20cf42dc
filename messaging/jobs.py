"""RQ jobs of messaging. Each takes ids (or nothing) and calls into a domain module."""

from rq import get_current_job

from messaging import dispatch, receipts, sweeper


def send(message_ids: list[int]) -> None:
    sweeper.ensure_sweeper()
    dispatch.send_messages(message_ids)


def apply_receipts() -> None:
    sweeper.ensure_sweeper()
    receipts.apply_pending()


def sweep_now() -> None:
    """One sweep, for a scheduler of its own (rq cron, systemd timer) instead of the chain."""
    sweeper.sweep()


def sweep() -> None:
    """One run of the sweeper chain; a run that does not own the chain is a stray and stops."""
    current = get_current_job()
    if current is not None and current.id != sweeper.chain_job_id():
        return
    try:
        sweeper.sweep()
    finally:
        if current is not None:
            sweeper.schedule_next()
