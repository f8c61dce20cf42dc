"""One rate limiter for every worker on every machine (DESIGN.md, "Rate limiting").

GCRA (the generic cell rate algorithm) in reservation form. Redis keeps, per (account, operation),
the theoretical arrival time (TAT) of the next call. A caller reserves with one script call: the
script reads the Redis server's clock, hands out the slot max(now, TAT - tolerance), moves TAT one
emission interval past it and answers how long to wait. The caller sleeps until its slot and then
calls CAMS. One round trip per call, and one clock for all machines.

Burst tolerance is 0 by default, and that is what keeps us under the sandbox's strict rule (at
most N accepted in *any* one-second window, like CAMS). Slots are then at least T = 1/(t N)
apart (t = MESSAGING_RATE_TARGET, 0.98 by default), so a window of one second holds at most
1 + floor(t N) <= N of them. The 2% margin is also the budget for timing noise between the
slot and the moment CAMS counts the call: calls bunch up only if their delays differ by more than
1/t - 1 s, about 20 ms, within one second. Measured on loopback, a prepared mass call goes from
its slot to the sandbox's count in 2 ms (p99 3 ms); threads of one process sharing the GIL add
up to a few more. At 0.985 (15 ms) test_ratelimit's four hammering threads were throttled in
one run of five; at 0.98, in none of eight.
A tolerance above 0 spends that budget on bursts; raise MESSAGING_RATE_BURST only for an upstream
that counts in buckets. The same budget is why a caller that wakes up late takes a new slot
rather than use a stale one (acquire).

After System.LimitControl every caller slows down for a while: a shared factor in Redis stretches
the interval (MESSAGING_SLOWDOWN_FACTOR, for MESSAGING_SLOWDOWN_SECONDS after the last throttled
call). If Redis cannot be reached nothing is sent: RateLimiterUnavailable, and the message stays
pending.
"""

import contextlib
import time
from typing import Any

from django.conf import settings
from redis.exceptions import RedisError

from camsconsole.models import Account
from messaging.queues import redis_client

# KEYS: TAT, slow-down factor. ARGV: interval (µs), tolerance (µs), longest acceptable wait (µs,
# 0 = any). Answers the wait in µs, or -1 - wait when that exceeds the longest acceptable one
# (then nothing is reserved).
_RESERVE = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local interval = tonumber(ARGV[1]) * tonumber(redis.call('GET', KEYS[2]) or '1')
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(now, tat - tonumber(ARGV[2]))
local wait = slot - now
local longest = tonumber(ARGV[3])
if longest > 0 and wait > longest then
  return -1 - math.floor(wait)
end
local next_tat = math.max(tat, slot) + interval
redis.call('SET', KEYS[1], string.format('%.0f', next_tat),
           'PX', math.floor((next_tat - now) / 1000) + 1000)
return math.floor(wait)
"""

# KEYS: slow-down factor. ARGV: factor, duration (ms). The factor never drops while it lasts.
_SLOW_DOWN = """
local current = tonumber(redis.call('GET', KEYS[1]) or '1')
local factor = math.max(current, tonumber(ARGV[1]))
redis.call('SET', KEYS[1], tostring(factor), 'PX', tonumber(ARGV[2]))
return tostring(factor)
"""

_scripts: dict[tuple[int, str], Any] = {}

# A caller waking this many times in a row later than MESSAGING_RATE_LATENESS goes anyway.
LATE_RETRIES = 5


class RateLimiterUnavailable(RuntimeError):
    """Redis could not be asked for a slot, so nothing may be sent."""


class SlotTooFar(Exception):
    """The next slot is further away than the caller is willing to wait; nothing was reserved."""

    def __init__(self, wait: float) -> None:
        super().__init__(f"next slot in {wait:.3f} s")
        self.wait = wait


def _script(source: str) -> Any:
    client = redis_client()
    key = (id(client), source)
    script = _scripts.get(key)
    if script is None:
        script = _scripts[key] = client.register_script(source)
    return script


def _keys(account_id: int, operation: str) -> tuple[str, str]:
    base = f"messaging:rate:{account_id}:{operation}"
    return base, base + ":slow"


def interval(qps: float) -> float:
    """Seconds between slots at the target share of `qps`."""
    return 1.0 / (qps * settings.MESSAGING_RATE_TARGET)


def reserve(account_id: int, operation: str, qps: float, max_wait: float = 0.0) -> float:
    """Take the next slot; the seconds until it. Raises SlotTooFar or RateLimiterUnavailable."""
    micros = round(interval(qps) * 1_000_000)
    tolerance = round(settings.MESSAGING_RATE_BURST * 1_000_000)
    try:
        answer = int(
            _script(_RESERVE)(
                keys=list(_keys(account_id, operation)),
                args=[micros, tolerance, round(max_wait * 1_000_000)],
            )
        )
    except RedisError as exc:
        raise RateLimiterUnavailable(f"the rate limiter in Redis is unreachable: {exc}") from exc
    if answer < 0:
        raise SlotTooFar((-1 - answer) / 1_000_000)
    return answer / 1_000_000


def acquire(account: Account, operation: str, max_wait: float = 0.0) -> float:
    """Wait for this process's turn to call `operation` for `account`; the seconds waited.

    A caller that wakes up late (a busy machine, a long pause of the process) gives its slot up
    and takes a new one: going now would put its call right in front of the calls reserved after
    it, and that bunching is what breaks a strict per-second limit. After a few late wake-ups in
    a row it goes anyway; CAMS then says System.LimitControl if it must, and the call is retried.
    """
    waited = 0.0
    qps = account.qps(operation)
    for _ in range(LATE_RETRIES):
        wait = reserve(account.pk, operation, qps, max_wait)
        due = time.monotonic() + wait
        if wait > 0:
            time.sleep(wait)
        waited += wait
        if time.monotonic() - due <= settings.MESSAGING_RATE_LATENESS:
            break
    return waited


def slow_down(account: Account, operation: str) -> None:
    """CAMS said System.LimitControl: every worker slows down for a while. Never raises."""
    duration = round(settings.MESSAGING_SLOWDOWN_SECONDS * 1000)
    # Without Redis the next reservation fails anyway, and then nothing is sent.
    with contextlib.suppress(RedisError):
        _script(_SLOW_DOWN)(
            keys=[_keys(account.pk, operation)[1]],
            args=[settings.MESSAGING_SLOWDOWN_FACTOR, duration],
        )


def slowdown_factor(account: Account, operation: str) -> float:
    try:
        value = redis_client().get(_keys(account.pk, operation)[1])
    except RedisError:
        return 1.0
    return float(value) if value else 1.0


def forget(account: Account, operation: str) -> None:
    """Drop the schedule and any slow-down (tests; an edited limit takes effect at once anyway)."""
    redis_client().delete(*_keys(account.pk, operation))
