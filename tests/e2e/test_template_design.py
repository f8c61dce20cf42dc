"""An operator designs a MARKETING template in Chromium, watches the preview, submits it, and
sees it approved after the sandbox's review."""

import re
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import Locator, Page, expect

from camsconsole.models import Account, Channel, ChannelType
from camsconsole.roles import Role
from templates_app.models import Variant
from tests.conftest import PASSWORD, make_user
from tests.e2e.conftest import Console

pytestmark = pytest.mark.e2e


def log_in(page: Page, console: Console) -> None:
    # Browser tests commit, so the database is flushed after each: the migration-made role
    # groups are gone from the second test on.
    Group.objects.get_or_create(name=Role.OPERATOR.group_name)
    make_user("olivia-operator", Role.OPERATOR)
    page.goto(f"{console.url}/login/")
    page.fill("input[name=username]", "olivia-operator")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("nav")).to_contain_text("olivia-operator")


def sandbox_channel(console: Console) -> Channel:
    sandbox = console.sandbox
    account = Account(name="Sandbox", endpoint=sandbox.url, access_key_id=sandbox.access_key_id)
    account.set_secret(sandbox.access_key_secret)
    account.save()
    return Channel.objects.create(
        account=account, channel_type=ChannelType.WHATSAPP, cust_space_id="s1", name="Shop"
    )


def field(page: Page, path: str) -> Locator:
    return page.locator(f'[data-path="{path}"]')


def test_it_designs_submits_and_sees_a_template_approved(
    console: Console, browser_page: Page, screenshots: Path
) -> None:
    page = browser_page
    channel = sandbox_channel(console)
    log_in(page, console)
    page.goto(f"{console.url}/templates/new/?channel={channel.pk}")
    preview = page.locator("#preview")

    page.fill("[name=name]", "spring_sale")
    expect(page.locator("[name=category]")).to_have_value("MARKETING")

    page.click("text=+ header")
    field(page, "Components[0].Format").select_option("IMAGE")
    expect(field(page, "Components[0].Text")).to_have_count(0)  # TEXT's field went away
    field(page, "Components[0].Url").fill("https://example.com/spring.png")
    expect(preview.locator(".tp-media")).to_contain_text("https://example.com/spring.png")

    # Operator text is never markup, in the live preview either.
    body = field(page, "Components[1].Text")
    body.fill('<img src=x onerror="window.pwned=1"><script>window.pwned=2</script> *hi*')
    expect(preview.locator(".tp-body")).to_contain_text('<img src=x onerror="window.pwned=1">')
    expect(preview.locator("script, img")).to_have_count(0)
    expect(preview.locator(".tp-body strong")).to_have_text("hi")

    body.fill("Hello {{1}}, your code *{{2}}* takes 20% off ~all~ _spring_ shoes.")
    expect(field(page, "Example.1")).to_be_visible()
    field(page, "Example.1").fill("Alice")
    field(page, "Example.2").fill("SPRING20")
    expect(preview.locator(".tp-body")).to_contain_text("Hello Alice, your code SPRING20")
    expect(preview.locator(".tp-body strong")).to_have_text("SPRING20")
    expect(preview.locator(".tp-body s")).to_have_text("all")
    expect(preview.locator(".tp-body em")).to_have_text("spring")

    page.click("text=+ footer")
    field(page, "Components[2].Text").fill("Reply STOP to opt out")
    expect(preview.locator(".tp-footer")).to_have_text("Reply STOP to opt out")

    page.click("text=+ buttons")
    field(page, "Components[3].Buttons[0].Type").select_option("URL")
    field(page, "Components[3].Buttons[0].Text").fill("Shop now")
    field(page, "Components[3].Buttons[0].Url").fill("https://example.com/spring")
    page.click("text=+ button")
    field(page, "Components[3].Buttons[1].Text").fill("Yes please")
    page.click("text=+ button")
    field(page, "Components[3].Buttons[2].Text").fill("{{1}} later")
    # The live check puts the error next to the field at fault, and holds back submission.
    error = page.locator('[data-error-for="Components[3].Buttons[2].Text"]')
    expect(error).to_contain_text("Button text cannot have variables")
    expect(page.locator("#submit-button")).to_be_disabled()
    field(page, "Components[3].Buttons[2].Text").fill("Not now")
    expect(error).to_be_empty()
    expect(preview.locator(".tp-button")).to_have_text(
        [re.compile("Shop now"), re.compile("Yes please"), re.compile("Not now")]
    )

    expect(field(page, "Components[3].Buttons[0].UrlType")).to_have_value("static")
    expect(page.locator("#editor")).not_to_contain_text("null")
    expect(page.locator("#check-summary")).to_have_text("Ready to submit.")
    page.screenshot(path=str(screenshots / "template-design.png"), full_page=True)
    page.click("#submit-button")

    expect(page.locator(".alert-success")).to_contain_text("sent it to CAMS for review")
    status = page.locator("#variant-status [data-testid=status]")
    expect(status).to_have_text("Approved", timeout=20_000)
    expect(page.locator("#variant-status")).to_contain_text("CAMS accepted version 1")
    page.screenshot(path=str(screenshots / "template-approved.png"), full_page=True)

    variant = Variant.objects.get()
    assert variant.status == "pass"
    assert page.evaluate("window.pwned") is None
    held = console.sandbox.state.templates.get(
        console.sandbox.access_key_id, variant.template_code, None, "en_US", 0
    )
    assert held is not None
    assert [c["Type"] for c in held.components] == ["HEADER", "BODY", "FOOTER", "BUTTONS"]
    assert [b["Type"] for b in held.components[3]["Buttons"]] == [
        "URL",
        "QUICK_REPLY",
        "QUICK_REPLY",
    ]
    assert held.example == {"1": "Alice", "2": "SPRING20"}


def test_it_applies_the_category_and_channel_rules_while_the_operator_works(
    console: Console, browser_page: Page
) -> None:
    page = browser_page
    channel = sandbox_channel(console)
    viber = Channel.objects.create(
        account=channel.account, channel_type=ChannelType.VIBER, cust_space_id="v", name="Vb"
    )
    log_in(page, console)
    page.goto(f"{console.url}/templates/new/?channel={channel.pk}")
    preview = page.locator("#preview")
    page.fill("[name=name]", "login_code")
    page.click("text=+ header")
    expect(page.locator(".tp-ttl")).to_be_hidden()

    page.click("text=+ carousel cards")
    cards = "Components[2].Cards"
    field(page, f"{cards}[0].CardComponents[1].Text").fill("First *card*")
    field(page, f"{cards}[0].CardComponents[0].Format").select_option("VIDEO")
    page.locator(".tp-component[data-type=CAROUSEL]").get_by_text("+ button").first.click()
    field(page, f"{cards}[0].CardComponents[2].Buttons[0].Text").fill("Tell me more")
    expect(preview.locator(".tp-card")).to_have_count(2)
    expect(preview.locator(".tp-card").first).to_contain_text("Video")
    expect(preview.locator(".tp-card strong")).to_have_text("card")
    expect(preview.locator(".tp-card .tp-button")).to_have_text([re.compile("Tell me more")])
    expect(page.locator('[data-error-for="Components[0].Type"]')).to_contain_text(
        "carousel template"
    )

    page.select_option("[name=category]", "AUTHENTICATION")
    # Fixed shape: no header, WhatsApp's own text, exactly one copy-code button.
    expect(page.locator(".tp-component")).to_have_count(3)
    expect(page.locator(".tp-component[data-type=HEADER]")).to_have_count(0)
    expect(field(page, "Components[0].Text")).to_have_count(0)
    expect(field(page, "Components[0].AddSecretRecommendation")).to_be_checked()
    expect(field(page, "Components[2].Buttons[0].Type")).to_have_value("COPY_CODE")
    expect(page.locator("#add-component button")).to_have_count(0)
    expect(preview.locator(".tp-body")).to_have_text(
        "123456 is your verification code. For your security, do not share this code."
    )
    expect(preview.locator(".tp-footer")).to_have_text("This code expires in 10 minutes.")
    expect(page.locator(".tp-ttl")).to_be_visible()
    page.fill("[name=message_send_ttl_seconds]", "901")
    expect(page.locator('[data-error-for="MessageSendTtlSeconds"]')).to_contain_text("900")
    page.fill("[name=message_send_ttl_seconds]", "900")
    expect(page.locator("#check-summary")).to_have_text("Ready to submit.")

    field(page, "Components[2].Buttons[0].Type").select_option("ONE_TAP")
    field(page, "Components[2].Buttons[0].AutofillText").fill("Autofill")
    expect(
        page.locator('[data-error-for="Components[2].Buttons[0].SupportedApps"]')
    ).not_to_be_empty()
    page.click("text=+ app")
    field(page, "Components[2].Buttons[0].SupportedApps[0].PackageName").fill("com.shop.app")
    field(page, "Components[2].Buttons[0].SupportedApps[0].SignatureHash").fill("K8a/AINcGX7")
    expect(page.locator("#check-summary")).to_have_text("Ready to submit.")

    page.select_option("[name=category]", "MARKETING")
    page.select_option("[name=channel]", str(viber.pk))
    # Viber: header, body and one URL button only.
    expect(page.locator("#add-component button")).to_have_text([re.compile("header")])
    expect(page.locator(".tp-phone.tp-viber")).to_be_visible()
    expect(page.locator('[data-error-for="Components[1].Type"]')).to_contain_text(
        "A Viber template cannot have a FOOTER component"
    )
