"""The audit history: append-only, logins recorded, filters, keyset pages and safe CSV export."""

import csv
import io
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.urls import reverse

from camsconsole.audit import SYSTEM, record
from camsconsole.csv_export import safe_cell
from camsconsole.models import AuditEvent
from tests.conftest import PASSWORD


def test_it_refuses_to_edit_or_delete_an_event(db: None) -> None:
    event = record(SYSTEM, "demo.thing", object_type="thing", object_id="1")
    event.verb = "changed"
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        event.delete()
    with pytest.raises(TypeError):
        AuditEvent.objects.filter(pk=event.pk).update(verb="changed")
    with pytest.raises(TypeError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get(pk=event.pk).verb == "demo.thing"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
def test_it_refuses_raw_sql_changes_on_postgresql(db: None) -> None:
    event = record(SYSTEM, "demo.thing")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE camsconsole_auditevent SET verb = 'x' WHERE id = %s", [event.pk])
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM camsconsole_auditevent WHERE id = %s", [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).verb == "demo.thing"


def test_it_offers_no_edit_in_the_django_admin(admin_client: Client) -> None:
    event = record(SYSTEM, "demo.thing")
    change = admin_client.get(reverse("admin:camsconsole_auditevent_change", args=[event.pk]))
    assert change.status_code == 200
    assert b'name="_save"' not in change.content
    delete = admin_client.post(reverse("admin:camsconsole_auditevent_delete", args=[event.pk]))
    assert delete.status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_it_records_logins_failures_and_logouts(admin_user: Any) -> None:
    client = Client()
    client.post(reverse("login"), {"username": "alice-admin", "password": "wrong"})
    client.post(reverse("login"), {"username": "alice-admin", "password": PASSWORD})
    client.post(reverse("logout"))
    events = list(AuditEvent.objects.order_by("id"))
    assert [e.verb for e in events] == ["auth.login_failed", "auth.login", "auth.logout"]
    assert events[0].object_label == "alice-admin"
    assert events[0].actor is None
    assert events[1].actor == admin_user
    assert events[1].ip == "127.0.0.1"
    assert "wrong" not in str(events[0].before) + str(events[0].after)


def test_it_locks_out_after_repeated_failures_then_lets_in_after_the_cool_off(
    admin_user: Any, settings: Any
) -> None:
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "alice-admin", "password": "wrong"})
    locked = client.post(reverse("login"), {"username": "alice-admin", "password": PASSWORD})
    assert locked.status_code == 429
    assert b"Too many failed logins" in locked.content
    # The cool-off passing is the same as the failures ageing out of the window.
    from axes.models import AccessAttempt

    AccessAttempt.objects.all().delete()
    ok = client.post(reverse("login"), {"username": "alice-admin", "password": PASSWORD})
    assert ok.status_code == 302


@pytest.fixture
def many_events(db: None) -> list[AuditEvent]:
    return [
        record(
            SYSTEM,
            f"thing.{'edit' if i % 2 else 'create'}",
            object_type="thing",
            object_id=str(i),
            object_label=f"thing {i}",
        )
        for i in range(120)
    ]


def test_it_pages_the_history_by_keyset(
    viewer_client: Client, many_events: list[AuditEvent]
) -> None:
    seen: list[int] = []
    url = reverse("history")
    while url:
        response = viewer_client.get(url)
        page = response.context["page"]
        seen += [e.id for e in page.events]
        url = f"{reverse('history')}?before={page.next_before}" if page.next_before else ""
    everything = list(AuditEvent.objects.order_by("-id").values_list("id", flat=True))
    assert seen == everything  # every event once, newest first, across 3 pages
    assert set(e.id for e in many_events) <= set(seen)


def test_it_filters_the_history(viewer_client: Client, many_events: list[AuditEvent]) -> None:
    response = viewer_client.get(reverse("history"), {"verb": "thing.edit", "object_type": "thing"})
    verbs = {e.verb for e in response.context["page"].events}
    assert verbs == {"thing.edit"}
    none = viewer_client.get(reverse("history"), {"actor": "nobody"})
    assert none.context["page"].events == []
    bad = viewer_client.get(
        reverse("history"), {"date_from": "2026-02-01", "date_to": "2026-01-01"}
    )
    assert "The end date is before the start date." in bad.content.decode()


def test_it_exports_the_filtered_history_safe_from_formulas(
    viewer_client: Client, db: None
) -> None:
    record(SYSTEM, "thing.create", object_type="thing", object_label='=HYPERLINK("http://x")')
    record(SYSTEM, "other.create", object_type="other", object_label="+1 plain")
    response = viewer_client.get(reverse("history-export"), {"object_type": "thing"})
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0][:4] == ["time", "actor", "ip", "verb"]
    assert len(rows) == 2
    assert rows[1][6] == '\'=HYPERLINK("http://x")'
    assert AuditEvent.objects.filter(verb="history.export").exists()


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_it_defuses_each_formula_trigger(value: str) -> None:
    assert safe_cell(value) == "'" + value
    assert safe_cell("plain") == "plain"


def test_it_shows_changed_values_as_escaped_json(viewer_client: Client, db: None) -> None:
    record(
        SYSTEM,
        "thing.edit",
        object_type="thing",
        before={"components": [{"Text": "old"}]},
        after={"components": [{"Text": "<script>alert(1)</script>"}]},
    )
    page = viewer_client.get(reverse("history")).content.decode()
    assert "[{&quot;Text&quot;: &quot;old&quot;}]" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page
