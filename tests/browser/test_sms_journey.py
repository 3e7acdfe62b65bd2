"""Text a demo contact: the segment counter counts as one types, preview, send, see it listed."""

from __future__ import annotations

import pytest
from django_scopes import scopes_disabled

from sodium import demo
from sodium.models import Contact, OutboundMessage

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo_practice():
    with scopes_disabled():
        return demo.build_demo(history_months=1)


@pytest.mark.parametrize("width", [1280, 390])
def test_manager_texts_a_contact(live_server, browser, screenshot, demo_practice, width):
    with scopes_disabled():
        contact = (
            Contact.objects.filter(practice=demo_practice, sms_opt_out=False)
            .exclude(mobile="")
            .select_related("client")
            .first()
        )
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server.url}/sign-in/")
    page.get_by_label("Email").fill(demo.DEMO_MANAGER_EMAIL)
    page.get_by_label("Password").fill(demo.DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")

    page.goto(f"{live_server.url}/clients/{contact.client_id}/")
    page.get_by_role("link", name=f"Send a text to {contact.full_name}").click()
    page.wait_for_url(f"**/contacts/{contact.pk}/text/")
    counter = page.locator("[data-sms-counter-for='id_body']")
    assert counter.inner_text() == "0 characters · 0 segments (GSM-7)"
    body = page.get_by_label("Text", exact=True)
    body.fill("Hi {{ contact.first_name }} €")
    # The template as typed: its braces are GSM extension characters, two each.
    counter.get_by_text("34 characters · 1 segment (GSM-7)").wait_for()
    body.fill("a" * 160 + "👍")
    counter.get_by_text("162 characters · 3 segments (Unicode)").wait_for()
    body.fill("Hi {{ contact.first_name }}, your accounts are ready.")
    screenshot(page, "sms_composer")
    page.get_by_role("button", name="Preview").click()
    page.get_by_text(f"Hi {contact.first_name}, your accounts are ready.").wait_for()
    page.get_by_role("button", name="Send text").click()
    page.wait_for_url(f"{live_server.url}/clients/{contact.client_id}/")
    page.get_by_text(f"Text to {contact.full_name} queued.").wait_for()
    with scopes_disabled():
        assert OutboundMessage.objects.filter(channel="sms", client=contact.client).count() == 1

    page.goto(f"{live_server.url}/messages/?channel=sms")
    page.get_by_text(f"Hi {contact.first_name}, your accounts are ready.").wait_for()
    screenshot(page, "sms_in_messages")
    context.close()
