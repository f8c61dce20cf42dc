"""How much faster than CAMS's own limits the sandbox answers: it must never be the bottleneck.

Starts a sandbox in this process (receipts off, QPS limits raised out of the way) and drives it
over loopback from several client processes, each with several threads and keep-alive
connections, every request signed with ACS3-HMAC-SHA256 and verified by the sandbox. Prints

    accepted SendChatappMessage calls/s / 250 (its documented QPS)
    accepted SendChatappMassMessage calls/s (1,000 recipients each) / 10

Both must be >= 2.0 for the console's benchmarks to measure the console, not the sandbox.
The last line is `sandbox_min_ratio: R`. Runs in about 20 s.

    .venv/bin/python bench/sandbox.py [--seconds 6] [--processes 2] [--threads 6]
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import multiprocessing
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from camsconsole.cams import signing
from camsconsole.cams.client import API_VERSION, encode_params, wire_query
from camsconsole.cams.limits import DOCUMENTED_QPS, MASS_SEND_MAX_RECIPIENTS
from camsconsole.cams.sandbox import running_sandbox

SENDER = "6580001111"
UNLIMITED = 1_000_000


class Caller:
    """One keep-alive connection that signs and sends CAMS calls.

    The canonical query of a call is computed once and reused (only the nonce and the date change
    per request), so the client spends its CPU on HTTP, not on re-encoding 100 kB SenderLists.
    """

    def __init__(self, host: str, port: int, key_id: str, secret: str) -> None:
        self.host = f"{host}:{port}"
        self.connection = http.client.HTTPConnection(host, port, timeout=30)
        self.key_id = key_id
        self.secret = secret

    def prepare(self, params: dict[str, Any]) -> tuple[str, str]:
        query = encode_params(params)
        return wire_query(query), signing.canonical_query_string(query)

    def call(self, action: str, wire: str, canonical_query: str) -> dict[str, Any]:
        headers = {
            "host": self.host,
            "x-acs-action": action,
            "x-acs-version": API_VERSION,
            "x-acs-date": signing.format_date(dt.datetime.now(dt.UTC)),
            "x-acs-signature-nonce": uuid.uuid4().hex,
            "x-acs-content-sha256": signing.EMPTY_PAYLOAD_HASH,
        }
        names = sorted(headers)
        without_query = signing.canonical_request(
            "POST", "/", {}, headers, names, signing.EMPTY_PAYLOAD_HASH
        )
        method, path, rest = without_query.split("\n", 2)
        canonical = f"{method}\n{path}\n{canonical_query}{rest}"
        headers["Authorization"] = (
            f"{signing.ALGORITHM} Credential={self.key_id},SignedHeaders={';'.join(names)},"
            f"Signature={signing.signature(self.secret, canonical)}"
        )
        headers["Content-Length"] = "0"
        self.connection.request("POST", f"/?{wire}", body=b"", headers=headers)
        response = self.connection.getresponse()
        answer: dict[str, Any] = json.loads(response.read())
        return answer


def create_template(caller: Caller) -> str:
    params = {
        "TemplateType": "WHATSAPP",
        "Name": "bench_notice",
        "Language": "en",
        "Category": "UTILITY",
        "Components": [{"Type": "BODY", "Text": "Hello {{1}}, your order {{2}} has shipped."}],
        "Example": {"1": "Alice", "2": "ORD-1"},
    }
    answer = caller.call("CreateChatappTemplate", *caller.prepare(params))
    if answer.get("Code") != "OK":
        raise SystemExit(f"could not create the template: {answer}")
    code: str = answer["Data"]["TemplateCode"]
    return code


def single_params(template_code: str, index: int) -> dict[str, Any]:
    return {
        "ChannelType": "whatsapp",
        "Type": "template",
        "From": SENDER,
        "To": f"659{index % 10_000_000:07d}",
        "TemplateCode": template_code,
        "Language": "en",
        "TemplateParams": {"1": "Alice", "2": f"ORD-{index}"},
        "TaskId": str(uuid.uuid4()),
    }


def mass_params(template_code: str, worker: int) -> dict[str, Any]:
    return {
        "ChannelType": "whatsapp",
        "From": SENDER,
        "TemplateCode": template_code,
        "Language": "en",
        "TaskId": f"bench-job-{worker}",
        "SenderList": [
            {
                "To": f"659{worker % 10}{i:06d}",
                "TemplateParams": {"1": f"Customer {i}", "2": f"O-{i}"},
            }
            for i in range(MASS_SEND_MAX_RECIPIENTS)
        ],
    }


def drive(spec: dict[str, Any], worker: int, start_at: float, stop_at: float, results: Any) -> None:
    """One client process: `threads` connections calling until `stop_at`."""
    counts = {"ok": 0, "other": 0}
    lock = threading.Lock()

    def run(thread: int) -> None:
        caller = Caller(spec["host"], spec["port"], spec["key_id"], spec["secret"])
        ident = worker * 100 + thread
        if spec["action"] == "SendChatappMassMessage":
            prepared = [caller.prepare(mass_params(spec["template_code"], ident))]
        else:
            prepared = [
                caller.prepare(single_params(spec["template_code"], ident * 10_000 + i))
                for i in range(200)
            ]
        ok = other = 0
        i = 0
        while time.time() < start_at:
            time.sleep(0.001)
        while time.time() < stop_at:
            answer = caller.call(spec["action"], *prepared[i % len(prepared)])
            i += 1
            if answer.get("Code") == "OK":
                ok += 1
            else:
                other += 1
        with lock:
            counts["ok"] += ok
            counts["other"] += other

    threads = [threading.Thread(target=run, args=(n,)) for n in range(spec["threads"])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.put(counts)


def measure(
    sandbox: Any, template_code: str, action: str, seconds: float, processes: int, threads: int
) -> float:
    """Accepted calls per second of `action`, counted by the sandbox itself."""
    spec = {
        "host": "127.0.0.1",
        "port": sandbox.port,
        "key_id": sandbox.access_key_id,
        "secret": sandbox.access_key_secret,
        "template_code": template_code,
        "action": action,
        "threads": threads,
    }
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    warmup = 2.0  # process start-up, imports and request preparation
    start_at = time.time() + warmup
    stop_at = start_at + seconds
    workers = [
        context.Process(target=drive, args=(spec, n, start_at, stop_at, results))
        for n in range(processes)
    ]
    for worker in workers:
        worker.start()
    while time.time() < start_at:
        time.sleep(0.005)
    before = sandbox.ledger()["operations"].get(action, {}).get("ok", 0)
    while time.time() < stop_at:
        time.sleep(0.005)
    after = sandbox.ledger()["operations"].get(action, {}).get("ok", 0)
    client = {"ok": 0, "other": 0}
    for _ in workers:
        counts = results.get(timeout=60)
        client["ok"] += counts["ok"]
        client["other"] += counts["other"]
    for worker in workers:
        worker.join(timeout=30)
    if client["other"]:
        print(f"  ({client['other']} {action} calls were not OK)", file=sys.stderr)
    return (after - before) / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=6.0, help="measurement per operation")
    parser.add_argument("--processes", type=int, default=2, help="client processes")
    parser.add_argument("--threads", type=int, default=6, help="threads per client process")
    options = parser.parse_args()

    qps = {operation: UNLIMITED for operation in DOCUMENTED_QPS}
    with running_sandbox(receipts=False, review_delay=0.0, qps=qps, threads=32) as sandbox:
        setup = Caller("127.0.0.1", sandbox.port, sandbox.access_key_id, sandbox.access_key_secret)
        template_code = create_template(setup)
        setup.connection.close()

        single = measure(
            sandbox,
            template_code,
            "SendChatappMessage",
            options.seconds,
            options.processes,
            options.threads,
        )
        sandbox.reset(templates=False)
        mass = measure(
            sandbox,
            template_code,
            "SendChatappMassMessage",
            options.seconds,
            options.processes,
            options.threads,
        )
        recipients = sandbox.ledger()["messages"]

    single_ratio = single / DOCUMENTED_QPS["SendChatappMessage"]
    mass_ratio = mass / DOCUMENTED_QPS["SendChatappMassMessage"]
    print(
        f"SendChatappMessage: {single:.0f} accepted calls/s = "
        f"{single_ratio:.2f} x the documented 250 QPS"
    )
    print(
        f"SendChatappMassMessage (1,000 recipients, {recipients:,} ledgered): {mass:.1f} "
        f"accepted calls/s = {mass_ratio:.2f} x the documented 10 QPS"
    )
    print(f"sandbox_min_ratio: {min(single_ratio, mass_ratio):.2f}")


if __name__ == "__main__":
    main()
