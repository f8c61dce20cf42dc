"""How long the server takes to render a campaign's pages with 1,000,000 recipients.

On a fresh PostgreSQL database: a campaign with a million recipients in every state (a run's
worth of counter shards too), then, through Django's test client in this process (server time
only, no network or browser):

- the campaign page (progress, counters, errors, charts' frame, the first recipients, history);
- the recipients table's first page, and a deep page (keyset: after the 900,000th number);
- a filtered page (failed recipients only) and the live progress partial, for information.

Prints the median of several requests for each, and last `campaign_page_ms: M`, the slowest of
the campaign page and the two recipients pages. Target: M <= 150.

    .venv/bin/python bench/campaign_page.py [--recipients 1000000] [--repeat 15]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.campaign_support import (
    environment,
    fill_recipients,
    fresh_database,
    make_campaign,
    setup_django,
    throwaway_redis,
)


def spread_states(campaign_id: int, count: int) -> None:
    """Give the recipients the states a finished run leaves, in statements like dispatch's."""
    from django.db import connection

    plan = [
        ("read", 0.70, ""),
        ("delivered", 0.15, ""),
        ("sent", 0.05, ""),
        ("failed", 0.05, "131026"),
        ("unknown", 0.02, "Client.Timeout"),
        ("suppressed", 0.01, "Console.Suppressed"),
    ]
    start = 0
    with connection.cursor() as cursor:
        for state, share, code in plan:
            size = int(count * share)
            cursor.execute(
                "UPDATE messaging_recipient SET state = %s, error_code = %s, "
                "accepted_at = now(), sent_at = now() WHERE campaign_id = %s AND id IN ("
                "SELECT id FROM messaging_recipient WHERE campaign_id = %s ORDER BY id "
                "OFFSET %s LIMIT %s)",
                [state, code, campaign_id, campaign_id, start, size],
            )
            start += size
        cursor.execute("ANALYZE messaging_recipient")


def timed(client: object, url: str, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url, secure=True)  # type: ignore[attr-defined]
        content = b"".join(response.streaming_content) if response.streaming else response.content
        times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200 or not content:
            raise SystemExit(f"{url} answered {response.status_code}")
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--recipients", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=15)
    options = parser.parse_args()

    with throwaway_redis() as (redis_url, _):
        env = environment(fresh_database("cams_bench_page"), redis_url)
        setup_django(env)
        from django.contrib.auth import get_user_model
        from django.test import Client, override_settings
        from django.test.utils import setup_test_environment
        from django.urls import reverse

        from camsconsole.roles import Role, assign_role
        from messaging.campaigns import counters
        from messaging.campaigns.models import Campaign

        setup_test_environment()
        campaign = make_campaign(None, name="Million")
        started = time.perf_counter()
        fill_recipients(campaign, options.recipients)
        spread_states(campaign.pk, options.recipients)
        Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.COMPLETED)
        print(
            f"{options.recipients:,} recipients in place in {time.perf_counter() - started:.0f} s"
            f"; counters say {counters.counts(campaign.pk).by_state}"
        )
        user = get_user_model().objects.create_user("bench-viewer", password="x" * 20)
        assign_role(user, Role.VIEWER)
        client = Client()
        client.force_login(user)

        deep = 6590000000 + int(options.recipients * 0.9)
        pages = {
            "campaign page": reverse("campaign-detail", args=[campaign.pk]),
            "recipients, first page": reverse("campaign-recipients", args=[campaign.pk]),
            "recipients, deep page": reverse("campaign-recipients", args=[campaign.pk])
            + f"?after={deep}",
        }
        extra = {
            "recipients, failed only": reverse("campaign-recipients", args=[campaign.pk])
            + "?state=failed",
            "progress partial": reverse("campaign-progress", args=[campaign.pk]),
            "chart figures": reverse("campaign-stats", args=[campaign.pk]),
        }
        results = {}
        # Static file URLs without a collectstatic manifest; everything else as in production.
        plain = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
        from django.conf import settings

        with override_settings(STORAGES={**settings.STORAGES, "staticfiles": plain}):
            for label, url in {**pages, **extra}.items():
                timed(client, url, 2)  # warm-up
                results[label] = timed(client, url, options.repeat)
                print(f"{label}: {results[label]:.1f} ms (median of {options.repeat})")
    print(f"campaign_page_ms: {max(results[label] for label in pages):.1f}")


if __name__ == "__main__":
    main()
