"""A manager sets up quarterly VAT in the recurrence editor: the preview shows each stagger's
next dates, where they moved and who is skipped, before anything is saved; saving lists it.

Screenshots: var/screenshots/recurrence_editor_<width>.png, recurrence_list_<width>.png.
"""

from __future__ import annotations

import pytest
from django_scopes import scopes_disabled

from sodium.models import Recurrence
from sodium.roles import Role
from tests import factories as f

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-for-tests-1"


@pytest.fixture
def practice():
    with scopes_disabled():
        practice = f.PracticeFactory(name="Hartley & Finch", slug="hartley-finch")
        f.MembershipFactory(
            practice=practice,
            role=Role.MANAGER,
            user=f.UserFactory(full_name="Maya Patel", email="maya@hartleyfinch.example"),
        )
        vat = f.ServiceFactory(practice=practice, name="VAT returns")
        for name, stagger in [
            ("Acorn Bakery Ltd", "q_mar"),
            ("Bluebell Florists", "q_mar"),
            ("Copperleaf Design Ltd", "q_apr"),
            ("Driftwood Joinery", "q_may"),
            ("Elmstead Dental Ltd", "monthly"),
            ("Foxglove Cafe", "none"),
        ]:
            client = f.ClientFactory(practice=practice, name=name, vat_periods=stagger)
            f.ClientServiceFactory(client=client, service=vat)
        return practice


def sign_in(page, live_server) -> None:
    page.goto(f"{live_server.url}/sign-in/")
    page.get_by_label("Email").fill("maya@hartleyfinch.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")


@pytest.mark.parametrize("width", [1280, 390])
def test_a_manager_previews_and_saves_quarterly_vat(
    live_server, browser, screenshot, practice, width
):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/recurring/")
    assert page.get_by_text("No recurring work yet").is_visible()
    page.get_by_role("link", name="New recurrence").first.click()
    preview = page.locator("#recurrence-preview")
    # The preview loads for the defaults (monthly on a calendar, every client).
    try:
        preview.get_by_text("clients").first.wait_for(timeout=5000)
    except Exception:
        page.screenshot(path="/tmp/rec_debug.png", full_page=True)
        print(preview.inner_text())
        raise

    page.get_by_label("Name", exact=True).fill("Quarterly VAT returns")
    page.locator("#id_service").select_option(label="VAT returns")
    page.get_by_text("On a client date").click()
    # The calendar's fields hide, the client date's show.
    assert not page.locator("#id_month_day").is_visible()
    page.get_by_label("Client date", exact=True).select_option("vat_period_end")
    page.get_by_label("Offset", exact=True).fill("7")
    page.get_by_label("When a date falls on a weekend or bank holiday").select_option("after")
    page.get_by_label("Clients with the service").check()
    page.get_by_label("Task name", exact=True).fill("{{ client.name }} VAT {{ period.label }}")
    page.get_by_label("Due", exact=True).select_option("vat_return")
    preview.get_by_text("First task: Acorn Bakery Ltd VAT").wait_for()
    text = " ".join(preview.inner_text().split())
    assert "7 days after the last day of each VAT period, moved to the working day after" in text
    assert "Acorn Bakery Ltd, Bluebell Florists" in text
    assert "Every month 7 days after" in text  # Elmstead's monthly stagger
    assert "moved from Sun 7 Feb 2027 (Sunday)" in text
    assert "Foxglove Cafe — skipped: no VAT periods" in text
    with scopes_disabled():
        assert not Recurrence.objects.exists()
    # Nothing sticks out sideways at either width.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "recurrence_editor")

    page.get_by_role("button", name="Save recurrence").click()
    page.get_by_text("Saved Quarterly VAT returns").wait_for()
    page.goto(f"{live_server.url}/recurring/")
    row = page.locator("tr", has_text="Quarterly VAT returns")
    assert "Clients with VAT returns" in row.inner_text()
    assert "Active" in row.inner_text()
    screenshot(page, "recurrence_list")
    context.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_the_recurrence_and_client_pages_show_what_repeats(
    live_server, browser, screenshot, practice, width
):
    import datetime as dt
    from zoneinfo import ZoneInfo

    from sodium import recurring
    from sodium.models import Client, Service
    from sodium.services.recurrences import create_recurrence

    london = ZoneInfo("Europe/London")
    with scopes_disabled():
        vat = Service.objects.get(practice=practice, name="VAT returns")
        recurrence = create_recurrence(
            practice=practice,
            actor=None,
            now=dt.datetime(2026, 6, 1, 6, tzinfo=london),
            name="Quarterly VAT",
            service=vat,
            schedule={"kind": "client_date", "anchor": "vat_period_end", "offset": 7},
            working_day_rule="after",
            task_name="{{ client.name }} VAT {{ period.label }}",
            due_rule=Recurrence.DueRule.VAT_RETURN,
            client_selection=Recurrence.Clients.SERVICE,
        )
        recurring.generate_due(practice, dt.datetime(2026, 11, 20, 6, tzinfo=london))
        acorn = Client.objects.get(practice=practice, name="Acorn Bakery Ltd")
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/recurring/{recurrence.pk}/")
    tasks = page.locator("section.rec-tasks")
    assert "Acorn Bakery Ltd VAT Jul–Sep 2026" in tasks.inner_text()
    assert "Foxglove Cafe: skipped: no VAT periods" in page.locator(".rec-skips").inner_text()
    page.locator("#recurrence-preview").get_by_text("First task:").first.wait_for()
    screenshot(page, "recurrence_detail")
    page.goto(f"{live_server.url}/clients/{acorn.pk}/")
    panel = page.locator("section", has=page.get_by_role("heading", name="Recurring work"))
    text = " ".join(panel.inner_text().split())
    assert "Quarterly VAT" in text
    assert "Thu 7 Jan 2027 Oct–Dec 2026 · due 7 Feb 2027" in text
    panel.scroll_into_view_if_needed()
    screenshot(page, "client_recurring_work")
    context.close()


def test_chosen_clients_are_found_by_search_and_previewed(live_server, browser, practice):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/recurring/new/")
    preview = page.locator("#recurrence-preview")
    preview.get_by_text("6 clients").wait_for()
    page.get_by_label("Chosen clients").check()
    search = page.get_by_label("Search clients")
    search.fill("copper")
    assert page.get_by_label("Copperleaf Design Ltd").is_visible()
    assert not page.get_by_label("Acorn Bakery Ltd").is_visible()
    page.get_by_label("Copperleaf Design Ltd").check()
    search.fill("")
    assert page.get_by_label("Acorn Bakery Ltd").is_visible()
    preview.get_by_text("1 client", exact=False).wait_for()
    assert "Copperleaf Design Ltd" in preview.inner_text()
    assert "Acorn Bakery Ltd" not in preview.inner_text()
    context.close()
