"""Every kind of page works under the Content-Security-Policy: the browser_page fixture fails the
test on any console error, and a CSP violation is one."""

from typing import Any

import pytest
from playwright.sync_api import Page

from camsconsole.roles import Role
from tests.conftest import PASSWORD, make_user

PAGES = [
    "/",
    "/accounts/",
    "/accounts/new/",
    "/channels/",
    "/senders/",
    "/templates/",
    "/templates/new/",
    "/messages/",
    "/messages/send/",
    "/conversations/",
    "/suppressions/",
    "/users/",
    "/history/",
    "/admin/",
    "/admin/camsconsole/auditevent/",
    "/admin/auth/user/",
    "/admin/rq/",
]


@pytest.mark.e2e
def test_it_loads_every_kind_of_page_without_a_csp_violation(
    live_server: Any, browser_page: Page, sender: Any
) -> None:
    make_user("csp-admin", Role.ADMIN)
    page = browser_page
    page.goto(f"{live_server.url}/login/")
    page.fill("[name=username]", "csp-admin")
    page.fill("[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    for path in PAGES:
        response = page.goto(live_server.url + path)
        assert response is not None
        assert response.status == 200, path
        assert "script-src 'self'" in (response.headers.get("content-security-policy") or ""), path
        page.wait_for_load_state("networkidle")
