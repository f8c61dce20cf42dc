"""Where messaging work is queued, and the Redis connection it shares with the rate limiter.

Two queues of our own, so that folding receipts in never waits behind a long send:
`receipts` (the apply job) and `dispatch` (sends and the sweeper). Workers listen to
`receipts dispatch default`, in that order of priority.

The connection here has short socket timeouts, unlike django-rq's: the webhook must answer CAMS
within 3 seconds even when Redis is unreachable, and a worker must find out at once that the rate
limiter is gone rather than hang.
"""

import contextlib
import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue

logger = logging.getLogger(__name__)

RECEIPTS = "receipts"
DISPATCH = "dispatch"

# Set while an apply job is queued or about to run; see ring_receipts.
DOORBELL_KEY = "messaging:receipts:doorbell"
DOORBELL_TTL = 60  # seconds; a lost job (Redis flushed mid-way) is forgotten after this

_clients: dict[str, Redis] = {}


def redis_client() -> Redis:
    """One client per process and URL (redis-py's pool notices a fork and starts afresh)."""
    url = settings.REDIS_URL
    client = _clients.get(url)
    if client is None:
        timeout = settings.MESSAGING_REDIS_TIMEOUT
        client = _clients[url] = Redis.from_url(
            url, socket_connect_timeout=timeout, socket_timeout=timeout
        )
    return client


def queue(name: str) -> Queue:
    config = settings.RQ_QUEUES.get(name, {})
    return Queue(
        name, connection=redis_client(), default_timeout=config.get("DEFAULT_TIMEOUT", 600)
    )


def ring_receipts() -> bool:
    """See that an apply job will run soon; whether one was enqueued. Never raises.

    Many pushes a second would otherwise make as many jobs. Instead the first push sets the
    doorbell key and enqueues; later pushes find it set and rely on that job, which clears the
    key before it looks for work, so nothing stored after the clear can be missed: its push
    rings again. When Redis is down the batch waits in the inbox for the sweeper.
    """
    try:
        client = redis_client()
        if not client.set(DOORBELL_KEY, b"1", nx=True, ex=DOORBELL_TTL):
            return False
        queue(RECEIPTS).enqueue("messaging.jobs.apply_receipts")
    except RedisError as exc:
        logger.warning("receipt doorbell not rung (%s); the sweeper will pick the batch up", exc)
        return False
    return True


def clear_doorbell() -> None:
    with contextlib.suppress(RedisError):
        redis_client().delete(DOORBELL_KEY)


def enqueue_dispatch(job: str, *args: Any, delay: float = 0.0) -> None:
    """Enqueue a dispatch job now or after `delay` seconds. Raises RedisError."""
    dispatch_queue = queue(DISPATCH)
    if delay > 0:
        dispatch_queue.enqueue_in(timedelta(seconds=delay), job, *args)
    else:
        dispatch_queue.enqueue(job, *args)
