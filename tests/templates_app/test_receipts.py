"""ChatAppAudit receipts: one fixture per AuditStatus, as CAMS pushes them, and the sandbox's own
pushes caught over HTTP."""

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from camsconsole.audit import Actor
from camsconsole.cams.sandbox import running_sandbox
from camsconsole.models import AuditEvent, Channel
from templates_app import actions
from templates_app.models import Status, Variant
from templates_app.receipts import apply_audit
from tests.templates_app.conftest import (
    FIXTURES,
    RunJobs,
    audit_fixture,
    make_variant,
    sandbox_account,
)

CODE = "9f0c2a7e5b1d4c3a8e6f0b2d4a6c8e10"


@pytest.fixture
def submitted(channel: Channel) -> Variant:
    variant = make_variant(channel)
    Variant.objects.filter(pk=variant.pk).update(template_code=CODE, status=Status.SUBMITTED)
    variant.refresh_from_db()
    return variant


@pytest.mark.parametrize(
    ("audit_status", "status"),
    [
        ("unaudit", Status.SUBMITTED),
        ("auditing", Status.AUDITING),
        ("pass", Status.PASS),
        ("fail", Status.FAIL),
        ("disabled", Status.DISABLED),
        ("paused", Status.PAUSED),
    ],
)
def test_it_applies_each_audit_status(submitted: Variant, audit_status: str, status: str) -> None:
    apply_audit(audit_fixture(audit_status))
    submitted.refresh_from_db()
    assert submitted.status == status
    assert bool(submitted.reason) == (status == Status.FAIL)


def test_it_moves_a_template_to_pass(submitted: Variant) -> None:
    apply_audit(audit_fixture("pass"))
    submitted.refresh_from_db()
    assert (submitted.status, submitted.reason) == ("pass", "")
    event = AuditEvent.objects.get(verb="template.review")
    assert event.actor_label == "system"
    assert (event.before["status"], event.after["status"]) == ("submitted", "pass")


def test_it_moves_another_to_fail_with_its_reason(submitted: Variant) -> None:
    apply_audit(audit_fixture("fail"))
    submitted.refresh_from_db()
    assert submitted.status == Status.FAIL
    assert submitted.reason == (
        "INVALID_FORMAT: The template's body has too many variables for its length."
    )


def test_it_applies_a_receipt_once(submitted: Variant) -> None:
    apply_audit(audit_fixture("pass") * 2)
    apply_audit(audit_fixture("pass"))
    assert AuditEvent.objects.filter(verb="template.review").count() == 1


def test_it_never_takes_back_a_decision(submitted: Variant) -> None:
    apply_audit(audit_fixture("pass"))
    apply_audit(audit_fixture("auditing") + audit_fixture("unaudit"))
    submitted.refresh_from_db()
    assert submitted.status == Status.PASS
    apply_audit(audit_fixture("paused"))
    apply_audit(audit_fixture("pass"))  # CAMS lifts the pause
    submitted.refresh_from_db()
    assert submitted.status == Status.PASS


def test_it_matches_the_language(submitted: Variant) -> None:
    apply_audit(audit_fixture("pass", Language="fr"))
    submitted.refresh_from_db()
    assert submitted.status == Status.SUBMITTED


def test_it_skips_unknown_templates_without_error(submitted: Variant) -> None:
    junk: list[Any] = [{"AuditStatus": "pass"}, "not an object", {"Type": "template"}]
    apply_audit([*audit_fixture("pass", TemplateCode="never-seen"), *junk])
    submitted.refresh_from_db()
    assert submitted.status == Status.SUBMITTED


def test_it_takes_quality_from_v2_receipts_and_ignores_the_rest(submitted: Variant) -> None:
    apply_audit(json.loads((FIXTURES / "chatappaudit_v2_quality.json").read_text()))
    submitted.refresh_from_db()
    assert (submitted.status, submitted.quality_score) == ("submitted", "YELLOW")


class Catcher:
    """Stands in for the console's webhook: keeps the arrays CAMS pushes."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.arrived = threading.Event()
        catcher = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                catcher.events += json.loads(body)
                catcher.arrived.set()
                answer = b'{"code":0,"msg":"success"}'
                self.send_response(200)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/cams/token/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def catcher() -> Iterator[Catcher]:
    caught = Catcher()
    yield caught
    caught.server.shutdown()
    caught.server.server_close()


def test_it_applies_what_the_sandbox_pushes(
    channel: Channel, catcher: Catcher, on_commit: Any, run_jobs: RunJobs, settings: Any
) -> None:
    settings.TEMPLATE_REVIEW_CHECKS = ()  # only the receipts may tell
    with running_sandbox(review_delay=0.2, callback_url=catcher.url) as sandbox:
        channel.account = sandbox_account(sandbox)
        channel.save()
        liked = make_variant(channel, name="spring_sale")
        disliked = make_variant(channel, name="reject_me")
        with on_commit():
            actions.submit(Actor(), liked)
            actions.submit(Actor(), disliked)
        run_jobs()
        assert sandbox.wait_receipts(timeout=5)
    assert catcher.arrived.is_set()
    apply_audit(catcher.events)
    liked.refresh_from_db()
    disliked.refresh_from_db()
    assert liked.status == Status.PASS
    assert (disliked.status, disliked.reason[:14]) == (Status.FAIL, "INVALID_FORMAT")
