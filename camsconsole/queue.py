"""Enqueueing jobs: ids only, and only once the transaction that made the work has committed
(a job must never look for a row that is not there yet, nor run for one that was rolled back)."""

from collections.abc import Callable
from typing import Any

import django_rq
from django.db import transaction


def enqueue_on_commit(
    job: Callable[..., Any] | str, *ids: int | str, queue: str = "default"
) -> None:
    transaction.on_commit(lambda: django_rq.get_queue(queue).enqueue(job, *ids))  # type: ignore[type-var]
