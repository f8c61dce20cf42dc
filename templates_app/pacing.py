"""Calling CAMS from template jobs within the account's QPS limits.

Template operations are few and slow next to sends (ListChatappTemplate allows 5 calls a second,
DeleteChatappTemplate 5), so a pacer per (account, operation) in each worker process spaces the
calls at 97% of the account's configured limit, and a throttled answer (System.LimitControl) or a
connection refused before sending is retried after a pause. Ambiguous failures are never retried
here: the caller decides.

The shared Redis limiter of the sending path (DESIGN.md, "Rate limiting") is the place to pace
across processes; until template jobs use it, two workers importing at once may be throttled,
and the retry absorbs that.
"""

import random
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from camsconsole.cams.errors import CamsError, CamsThrottled
from camsconsole.models import Account

TARGET = 0.97
RETRIES = 4
T = TypeVar("T")


class Pacer:
    """Spaces calls `1 / rate` seconds apart, across the threads of one process."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next)
            self._next = slot + self.interval
        if slot > now:
            time.sleep(slot - now)


_pacers: dict[tuple[int, str, float], Pacer] = {}
_pacers_lock = threading.Lock()


def pacer(account: Account, operation: str) -> Pacer:
    rate = account.qps(operation) * TARGET
    with _pacers_lock:
        # Keyed by the rate too, so an edited limit takes effect at the next call.
        return _pacers.setdefault((account.pk, operation, rate), Pacer(rate))


def backoff(attempt: int) -> float:
    return 0.25 * 2**attempt + random.uniform(0, 0.25)


def call(account: Account, operation: str, request: Callable[[], T]) -> T:
    """Make one CAMS call in its slot, retrying what CAMS certainly did not act on."""
    slots = pacer(account, operation)
    for attempt in range(RETRIES + 1):
        slots.wait()
        try:
            return request()
        except CamsError as exc:
            if not exc.retryable or attempt == RETRIES:
                raise
            hint = exc.retry_after if isinstance(exc, CamsThrottled) else None
            time.sleep(hint or backoff(attempt))
    raise AssertionError("unreachable")  # pragma: no cover
