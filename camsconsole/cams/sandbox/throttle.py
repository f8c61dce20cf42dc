"""Per-account, per-operation QPS limits, enforced strictly.

CAMS counts calls per API per account (reference §1) and answers System.LimitControl beyond the
limit. The sandbox is stricter than a token bucket on purpose: in *every* one-second window
(not just calendar seconds) at most `limit` calls are admitted, so a client that passes here
can never burst past CAMS's limit. A sliding log of admission times does this exactly:
admit if fewer than `limit` admissions lie in (now - 1 s, now]. Refused calls are not logged,
so a client hammering the limit does not lock itself out.

The admission time is taken inside the lock, so logs are sorted and the stats computed from
them see exactly what the limiter saw.
"""

from __future__ import annotations

import threading
import time
from array import array
from collections import deque
from collections.abc import Callable
from typing import Any

WINDOW = 1.0


class QpsLimiter:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: dict[tuple[str, str], deque[float]] = {}
        # Every admission time, kept for the ledger's per-window statistics (8 bytes a call).
        self._admitted: dict[tuple[str, str], array[float]] = {}
        self._throttled: dict[tuple[str, str], int] = {}

    def admit(self, access_key_id: str, operation: str, limit: int) -> bool:
        bucket = (access_key_id, operation)
        with self._lock:
            now = self._clock()
            window = self._windows.get(bucket)
            if window is None:
                window = self._windows[bucket] = deque()
                self._admitted[bucket] = array("d")
            cutoff = now - WINDOW
            while window and window[0] <= cutoff:
                window.popleft()
            if len(window) >= limit:
                self._throttled[bucket] = self._throttled.get(bucket, 0) + 1
                return False
            window.append(now)
            self._admitted[bucket].append(now)
            return True

    def count_throttled(self, access_key_id: str, operation: str) -> None:
        """Count a call refused for another reason (a throttle storm) as throttled."""
        bucket = (access_key_id, operation)
        with self._lock:
            self._throttled[bucket] = self._throttled.get(bucket, 0) + 1

    def reset(self) -> None:
        with self._lock:
            self._windows.clear()
            self._admitted.clear()
            self._throttled.clear()

    def stats(self) -> dict[str, dict[str, Any]]:
        """Per operation: calls admitted and throttled, and the most admitted in any 1-s window.

        With several access keys the window maximum is the largest of any one key's, since
        limits apply per key.
        """
        with self._lock:
            admitted = {bucket: array("d", log) for bucket, log in self._admitted.items()}
            throttled = dict(self._throttled)
        result: dict[str, dict[str, Any]] = {}
        for bucket in set(admitted) | set(throttled):
            operation = bucket[1]
            entry = result.setdefault(
                operation, {"accepted": 0, "throttled": 0, "max_in_any_1s_window": 0}
            )
            log = admitted.get(bucket, array("d"))
            entry["accepted"] += len(log)
            entry["throttled"] += throttled.get(bucket, 0)
            entry["max_in_any_1s_window"] = max(entry["max_in_any_1s_window"], max_in_window(log))
        return result


def max_in_window(times: array[float] | list[float], window: float = WINDOW) -> int:
    """The largest number of sorted `times` inside any half-open window (t - window, t]."""
    best = 0
    start = 0
    for end, moment in enumerate(times):
        cutoff = moment - window
        while times[start] <= cutoff:
            start += 1
        best = max(best, end - start + 1)
    return best
