"""How fast a recipient CSV becomes a campaign's recipients, and in how much memory.

Generates a 1,000,000-row CSV as Excel's "CSV UTF-8" writes it (byte-order mark, quoted fields
where needed): numbers of eight countries in national (the default country, GB) and
international spellings, 2 % invalid values, 1 % duplicates written differently, and two template
variables. Then, each in a fresh process on a fresh PostgreSQL database:

- the console's import job (messaging/campaigns/imports.py), as a worker runs it;
- a naive baseline: csv.DictReader, phonenumbers.parse/is_valid_number/format_number on every
  row, a set for duplicates, bulk_create in batches of 1,000.

Prints each run's wall seconds and peak resident memory (the process, and its largest worker
process), the counts, the speed-up over the baseline, and last `import_seconds: S`.
Target: S <= 45 with peak RSS <= 300 MB.

    .venv/bin/python bench/import_csv.py [--rows 1000000] [--no-baseline]
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.campaign_support import (
    ROOT,
    environment,
    fresh_database,
    peak_rss_mb,
    setup_django,
    throwaway_redis,
)

DEFAULT_REGION = "GB"
NAMES = ["Alice", "Zoë", "José", "李雷", "Анна", "Siti", "Raj", "O'Brien", "Müller", "Nguyễn"]
US_AREAS = ["201", "212", "213", "310", "312", "415", "617", "646", "702", "718"]


def _spaced(digits: str, rng: random.Random) -> str:
    if rng.random() < 0.5:
        return digits
    cut = len(digits) // 2
    return f"{digits[:cut]} {digits[cut:]}"


def _number(rng: random.Random) -> tuple[str, str]:
    """(E.164 digits, how it is written) for one of eight countries."""
    kind = rng.random()
    if kind < 0.35:  # GB mobile, national spelling
        nsn = f"7{rng.randint(1, 3)}{rng.randrange(10**8):08d}"
        written = rng.choice(
            [f"0{nsn[:4]} {nsn[4:]}", f"0{nsn}", f"0{nsn[:4]}-{nsn[4:7]}-{nsn[7:]}"]
        )
        return "44" + nsn, written
    if kind < 0.45:  # GB, international
        nsn = f"7{rng.randint(1, 3)}{rng.randrange(10**8):08d}"
        return "44" + nsn, rng.choice([f"+44 {nsn[:4]} {nsn[4:]}", f"+44{nsn}", f"0044 {nsn}"])
    table = [
        ("65", lambda: f"9{rng.randint(0, 8)}{rng.randrange(10**6):06d}"),
        ("1", lambda: f"{rng.choice(US_AREAS)}{rng.randint(2, 9)}{rng.randrange(10**6):06d}"),
        ("91", lambda: f"9{rng.randrange(10**9):09d}"),
        ("62", lambda: f"812{rng.randrange(10**8):08d}"),
        ("55", lambda: f"119{rng.randrange(10**8):08d}"),
        ("49", lambda: f"151{rng.randrange(10**8):08d}"),
        ("61", lambda: f"40{rng.randrange(10**7):07d}"),
    ]
    code, make = rng.choice(table)
    nsn = make()
    written = rng.choice(
        [f"+{code} {_spaced(nsn, rng)}", f"+{code}{nsn}", f"00{code} {nsn}", f"+{code}-{nsn}"]
    )
    return code + nsn, written


INVALID = ["12345", "not a number", "+65 1234 5678", "+44 20", "n/a", "", "+999 1234567", "07"]


def generate(path: Path, rows: int, seed: int = 20260606) -> None:
    rng = random.Random(seed)
    recent: list[str] = []
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(["Mobile number", "First name", "Order"])
        for index in range(rows):
            roll = rng.random()
            if roll < 0.02:
                written = rng.choice(INVALID)
            elif roll < 0.03 and recent:
                written = "+" + rng.choice(recent)  # a duplicate, spelt differently
            else:
                e164, written = _number(rng)
                if len(recent) < 5000:
                    recent.append(e164)
                else:
                    recent[rng.randrange(5000)] = e164
            name = f"{rng.choice(NAMES)}, {rng.choice('ABCDEFGHJK')}."
            writer.writerow([written, name, f"ORD-{index:07d}"])


# -- the runs (each in a process of its own) ------------------------------------------------------


def child(mode: str, csv_path: str) -> None:
    import logging
    import os

    from bench.campaign_support import make_campaign

    setup_django(dict(os.environ), migrate=mode == "console")
    logging.getLogger("messaging.campaigns.imports").setLevel(logging.INFO)
    logging.getLogger("messaging.campaigns.imports").addHandler(logging.StreamHandler(sys.stderr))
    from camsconsole.audit import Actor
    from messaging.campaigns import actions, imports
    from messaging.campaigns.models import CampaignImport

    campaign = make_campaign(None)
    if mode == "console":
        import shutil
        import tempfile

        from django.core.files.uploadedfile import UploadedFile

        class OnDisk(UploadedFile):
            """An upload Django already streamed to a temporary file, as the page gets it."""

            def temporary_file_path(self) -> str:
                return str(spooled)

        spooled = Path(tempfile.mkdtemp()) / "recipients.csv"
        shutil.copyfile(csv_path, spooled)
        with spooled.open("rb") as handle:
            upload = OnDisk(handle, name="recipients.csv", size=spooled.stat().st_size)
            imp = actions.upload(Actor(), campaign, upload)
        actions.start_import(
            Actor(),
            imp,
            {
                "recipient": 0,
                "variables": {"1": 1, "2": 2},
                "payload": [],
                "default_region": DEFAULT_REGION,
            },
        )
        started = time.perf_counter()
        imports.run(imp.pk)
        seconds = time.perf_counter() - started
        imp = CampaignImport.objects.get(pk=imp.pk)
        counts = {
            "rows": imp.rows_read,
            "imported": imp.imported,
            "invalid": imp.invalid,
            "duplicates": imp.duplicates,
            "state": imp.state,
            "error": imp.error,
        }
    else:
        started = time.perf_counter()
        counts = naive(campaign, csv_path)
        seconds = time.perf_counter() - started
    own, workers = peak_rss_mb()
    print(json.dumps({"seconds": seconds, "rss": own, "workers_rss": workers, **counts}))


def naive(campaign: Any, csv_path: str) -> dict[str, Any]:
    import phonenumbers

    from messaging.campaigns.models import Recipient

    seen: set[str] = set()
    batch: list[Recipient] = []
    imported = invalid = duplicates = rows = 0
    with open(csv_path, encoding="utf-8-sig", newline="") as handle:
        for row_number, row in enumerate(csv.DictReader(handle), start=2):
            rows += 1
            try:
                number = phonenumbers.parse(row["Mobile number"], DEFAULT_REGION)
            except phonenumbers.NumberParseException:
                invalid += 1
                continue
            if not phonenumbers.is_valid_number(number):
                invalid += 1
                continue
            e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)[1:]
            if e164 in seen:
                duplicates += 1
                continue
            seen.add(e164)
            batch.append(
                Recipient(
                    campaign=campaign,
                    to=e164,
                    row=row_number,
                    params={"1": row["First name"], "2": row["Order"]},
                )
            )
            if len(batch) >= 1000:
                Recipient.objects.bulk_create(batch)
                imported += len(batch)
                batch = []
    Recipient.objects.bulk_create(batch)
    imported += len(batch)
    return {"rows": rows, "imported": imported, "invalid": invalid, "duplicates": duplicates}


def run_child(mode: str, csv_path: Path, env: dict[str, str]) -> dict[str, Any]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--csv", str(csv_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    if done.returncode != 0:
        print(done.stderr[-3000:], file=sys.stderr)
        raise SystemExit(f"the {mode} run failed")
    for line in done.stderr.splitlines():
        if line.startswith("import "):
            print(f"  {line}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["process_seconds"] = time.perf_counter() - started
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--child", choices=["console", "naive"])
    parser.add_argument("--csv")
    options = parser.parse_args()
    if options.child:
        child(options.child, options.csv)
        return

    folder = ROOT / "var" / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    csv_path = folder / f"recipients-{options.rows}.csv"
    started = time.perf_counter()
    generate(csv_path, options.rows)
    size = csv_path.stat().st_size / 1e6
    print(
        f"generated {options.rows:,} rows ({size:.0f} MB) in {time.perf_counter() - started:.1f} s"
    )

    with throwaway_redis() as (redis_url, _):
        database = fresh_database("cams_bench_import")
        env = environment(database, redis_url, CAMPAIGN_UPLOAD_DIR=str(folder / "uploads"))
        ours = run_child("console", csv_path, env)
        print(
            f"console import: {ours['seconds']:.1f} s, {ours['imported']:,} imported of "
            f"{ours['rows']:,} rows ({ours['invalid']:,} invalid, {ours['duplicates']:,} "
            f"duplicates); peak RSS {ours['rss']:.0f} MB (largest worker {ours['workers_rss']:.0f}"
            f" MB)"
        )
        if ours["state"] != "done":
            raise SystemExit(f"the import failed: {ours['error']}")
        if not options.no_baseline:
            naive_run = run_child("naive", csv_path, env)
            print(
                f"naive baseline: {naive_run['seconds']:.1f} s, {naive_run['imported']:,} "
                f"imported; peak RSS {naive_run['rss']:.0f} MB"
            )
            print(
                f"speed-up over the naive baseline: {naive_run['seconds'] / ours['seconds']:.1f}x"
            )
    print(f"import_seconds: {ours['seconds']:.1f}")


if __name__ == "__main__":
    main()
