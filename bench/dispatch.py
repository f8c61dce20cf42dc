"""How close campaign dispatch comes to CAMS's documented ceilings, never throttled, never twice.

For each run, on a fresh PostgreSQL database and a throwaway Redis, with the sandbox in its own
process enforcing the documented limits (receipts off):

- mass mode: 1,000,000 recipients, SendChatappMassMessage with 1,000 a call, with 1, 2 and 4
  RQ workers (`manage.py rqworker --with-scheduler dispatch default`, as deployed);
- single mode: 20,000 recipients, SendChatappMessage, with 2 workers.

Each run prints the recipients accepted per second between the first call's start and the last
call's end, divided by the ceiling (10 calls/s x 1,000 = 10,000/s; 250/s), the System.LimitControl
answers the sandbox gave, and the duplicates in its ledger (per To, and per (To, TaskId)).
The last line is `dispatch_ratio: R`, the lowest ratio of the runs.
Target: R >= 0.97 with 0 throttled calls and 0 duplicates.

    .venv/bin/python bench/dispatch.py [--mass 1000000] [--single 20000] [--workers 1,2,4]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
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
    throwaway_redis,
)

MASS_CEILING = 10 * 1000
SINGLE_CEILING = 250


def start_workers(count: int, env: dict[str, str]) -> list[subprocess.Popen[bytes]]:
    log = open(ROOT / "var" / "bench" / "dispatch-workers.log", "ab")  # noqa: SIM115
    return [
        subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "manage.py"),
                "rqworker",
                "--with-scheduler",
                "dispatch",
                "default",
            ],
            env=env,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        for _ in range(count)
    ]


def stop_workers(workers: list[subprocess.Popen[bytes]]) -> None:
    for worker in workers:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
    for worker in workers:
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)


def run(
    label: str, mode: str, recipients: int, workers: int, sandbox_port: int, env: dict[str, str]
) -> dict[str, Any]:
    import requests
    from django.db.models import Max, Min, Sum

    from camsconsole.audit import SYSTEM
    from messaging.campaigns import actions, counters
    from messaging.campaigns.models import Campaign, CampaignCall
    from messaging.models import State

    requests.post(
        f"http://127.0.0.1:{sandbox_port}/_sandbox/reset", json={"templates": False}, timeout=30
    ).raise_for_status()
    endpoint = f"http://127.0.0.1:{sandbox_port}"
    campaign = make_campaign(endpoint, mode=mode, name=label)
    started = time.perf_counter()
    fill_recipients(campaign, recipients)
    print(f"{label}: {recipients:,} recipients ready in {time.perf_counter() - started:.1f} s")
    processes = start_workers(workers, env)
    try:
        time.sleep(3)  # the workers start up
        actions.launch(SYSTEM, campaign)
        deadline = time.monotonic() + max(
            120.0, 3 * recipients / (MASS_CEILING if mode == "mass" else SINGLE_CEILING)
        )
        while time.monotonic() < deadline:
            campaign.refresh_from_db()
            if campaign.status != Campaign.Status.RUNNING:
                break
            time.sleep(1)
    finally:
        stop_workers(processes)
    counts = counters.counts(campaign.pk)
    calls = CampaignCall.objects.filter(campaign=campaign)
    span = calls.aggregate(first=Min("started_at"), last=Max("finished_at"))
    accepted = calls.filter(state="accepted").aggregate(n=Sum("recipients"))["n"] or 0
    seconds = (span["last"] - span["first"]).total_seconds() if span["first"] else 0.0
    ceiling = MASS_CEILING if mode == "mass" else SINGLE_CEILING
    rate = accepted / seconds if seconds else 0.0
    ledger = sandbox_ledger(sandbox_port)
    operation = "SendChatappMassMessage" if mode == "mass" else "SendChatappMessage"
    stats = ledger["operations"].get(operation, {})
    result = {
        "label": label,
        "status": campaign.status,
        "accepted": counts[State.ACCEPTED],
        "not_accepted": counts.total - counts[State.ACCEPTED],
        "seconds": seconds,
        "rate": rate,
        "ratio": rate / ceiling,
        "throttled": stats.get("throttled", 0),
        "max_in_1s": stats.get("max_in_any_1s_window", 0),
        "ledgered": ledger["messages"],
        "duplicates": ledger["duplicates"]["by_to"]["extra"],
        "duplicates_task": ledger["duplicates"]["by_to_task"]["extra"],
    }
    print(
        f"{label}: {result['accepted']:,} accepted in {seconds:.1f} s = {rate:,.0f}/s = "
        f"{result['ratio']:.3f} x the {ceiling:,}/s ceiling; {result['throttled']} "
        f"System.LimitControl; at most {result['max_in_1s']} calls in any second; ledger "
        f"{result['ledgered']:,} messages, {result['duplicates']} duplicates per To, "
        f"{result['duplicates_task']} per (To, TaskId); campaign {result['status']}"
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--mass", type=int, default=1_000_000)
    parser.add_argument("--single", type=int, default=20_000)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--single-workers", type=int, default=2)
    options = parser.parse_args()
    (ROOT / "var" / "bench").mkdir(parents=True, exist_ok=True)

    with throwaway_redis() as (redis_url, _):
        database = fresh_database("cams_bench_dispatch")
        env = environment(database, redis_url, CAMPAIGN_UPLOAD_DIR=str(ROOT / "var" / "bench"))
        setup_django(env)
        port = free_port()
        sandbox = sandbox_process(port, "--no-receipts", "--review-delay", "0", env=env)
        results = []
        try:
            for count in [int(n) for n in options.workers.split(",") if n]:
                if options.mass:
                    label = f"mass, {count} worker{'s' if count > 1 else ''}"
                    results.append(run(label, "mass", options.mass, count, port, env))
            if options.single:
                label = f"single, {options.single_workers} workers"
                results.append(
                    run(label, "single", options.single, options.single_workers, port, env)
                )
        finally:
            sandbox.terminate()
            sandbox.wait(timeout=30)
    throttled = sum(result["throttled"] for result in results)
    duplicates = sum(result["duplicates"] + result["duplicates_task"] for result in results)
    print(f"throttled calls in all runs: {throttled}; duplicates in all runs: {duplicates}")
    print(f"dispatch_ratio: {min(result['ratio'] for result in results):.3f}")


if __name__ == "__main__":
    main()
