"""Sign in as the demo manager, open a client, add a contact in place, see it listed."""

from __future__ import annotations

import pytest
from django_scopes import scopes_disabled

from sodium import demo
from sodium.models import Client, Contact

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo_practice():
    with scopes_disabled():
        return demo.build_demo(history_months=1)


@pytest.mark.parametrize("width", [1280, 390])
def test_manager_adds_a_contact_to_a_client(live_server, browser, screenshot, demo_practice, width):
    with scopes_disabled():
        client = Client.objects.filter(practice=demo_practice).order_by("name").first()
        before = Contact.objects.filter(client=client).count()
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server.url}/sign-in/")
    page.get_by_label("Email").fill(demo.DEMO_MANAGER_EMAIL)
    page.get_by_label("Password").fill(demo.DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Good")
    screenshot(page, "dashboard")

    page.goto(f"{live_server.url}/clients/")
    screenshot(page, "client_list")
    # Live search narrows the table through htmx without reloading the page.
    page.get_by_label("Search").fill(client.reference)
    page.wait_for_url(f"**/clients/?q={client.reference}**")
    page.get_by_role("link", name=client.name).click()
    page.wait_for_url(f"{live_server.url}/clients/{client.pk}/")
    screenshot(page, "client_detail")

    page.get_by_role("link", name="Add contact").click()
    editor = page.locator("#client-contacts form")
    editor.get_by_label("First name").fill("Grace")
    editor.get_by_label("Last name").fill("Hopper")
    editor.get_by_label("Email").fill("grace.hopper@client.example")
    editor.get_by_label("Phone").fill("020 7946 0123")
    editor.get_by_label("Payroll").check()
    screenshot(page, "contact_add_form")
    editor.get_by_role("button", name="Add contact").click()

    section = page.locator("#client-contacts")
    section.get_by_text("Added Grace Hopper.").wait_for()
    assert section.get_by_text("grace.hopper@client.example").is_visible()
    assert page.url == f"{live_server.url}/clients/{client.pk}/"  # no navigation happened
    screenshot(page, "contact_added")
    with scopes_disabled():
        grace = Contact.objects.get(client=client, email="grace.hopper@client.example")
        assert grace.roles == ["payroll"]
        assert Contact.objects.filter(client=client).count() == before + 1

    # A second attempt with a bad email shows the error in place and saves nothing.
    page.get_by_role("link", name="Add contact").click()
    editor = page.locator("#client-contacts form")
    editor.get_by_label("First name").fill("Bad")
    editor.get_by_label("Email").fill("not-an-email")
    editor.get_by_role("button", name="Add contact").click()
    page.locator("#client-contacts .error").first.wait_for()
    assert "valid email" in page.locator("#client-contacts .error").first.inner_text()
    with scopes_disabled():
        assert Contact.objects.filter(client=client).count() == before + 1
    context.close()
