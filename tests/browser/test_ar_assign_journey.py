"""An AR manager filters the customers tab, picks several customers, assigns them a workflow
in bulk (one refused: no collections contact), opens one customer, reads its workflow's
timeline, pauses it with a reason and resumes it.

Screenshots: var/screenshots/ar_customers_filtered_<width>.png, ar_customers_assigned_<width>.png,
ar_customer_workflow_<width>.png, ar_customer_paused_<width>.png.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django_scopes import scopes_disabled

from collections_ar import engine, statuses
from collections_ar.builder import prebuilt
from collections_ar.models import Assignment, Customer
from sodium.roles import Role
from sodium.schedules.practice import today_for
from tests import factories as f

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-for-tests-1"


@pytest.fixture
def world():
    with scopes_disabled():
        practice = f.PracticeFactory(name="Hartley & Finch", slug="hartley-finch")
        rachel = f.UserFactory(full_name="Rachel Green", email="rachel@hartleyfinch.example")
        f.MembershipFactory(practice=practice, role=Role.AR_MANAGER, user=rachel)
        statuses.ensure_default_statuses(practice)
        for workflow in prebuilt.ensure_prebuilt_workflows(practice):
            engine.switch_workflow(workflow, actor=rachel, on=True)
        today = today_for(practice)

        def customer(name: str, days_overdue: int, total: str, contact: bool = True):
            client = f.ClientFactory(practice=practice, name=name)
            if contact:
                first = name.split()[0]
                f.ContactFactory(
                    client=client,
                    first_name=first,
                    last_name="Ali",
                    email=f"{first.lower()}@{first.lower()}.example",
                    mobile="07700 900123",
                    is_billing=True,
                )
            c = engine.get_or_create_customer(client, actor=rachel)
            engine.create_invoice(
                c,
                actor=rachel,
                number=f"INV-{client.pk:04}",
                issue_date=today - dt.timedelta(days=days_overdue + 30),
                due_date=today - dt.timedelta(days=days_overdue),
                total=Decimal(total),
            )
            return c

        customer("Acme Widgets", 40, "1250.00")
        customer("Bramble Bakery", 45, "310.40")
        customer("Copperfield Cycles", 52, "2200.00", contact=False)
        customer("Dunmore Dental", 12, "95.00")
        customer("Everest Estates", 120, "5400.00")
    return {"practice": practice}


@pytest.mark.parametrize("width", [1280, 390])
def test_an_ar_manager_assigns_customers_in_bulk_then_pauses_and_resumes_one(
    live_server, browser, screenshot, world, width
):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server.url}/sign-in/")
    page.get_by_label("Email").fill("rachel@hartleyfinch.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")

    # Filter the customers 31–60 days overdue.
    page.goto(f"{live_server.url}/ar/")
    table = page.locator("#ar-customers")
    assert "Everest Estates" in table.inner_text()
    page.get_by_label("Overdue").select_option(label="31–60 days")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**/ar/?**band=31-60**")
    text = table.inner_text()
    for name in ("Acme Widgets", "Bramble Bakery", "Copperfield Cycles"):
        assert name in text
    assert "Dunmore Dental" not in text and "Everest Estates" not in text
    assert "All 3 that match" in text
    screenshot(page, "ar_customers_filtered")

    # Pick all three and assign "Firm" (its actions count from the day it is assigned):
    # Copperfield has nobody to write to.
    for name in ("Acme Widgets", "Bramble Bakery", "Copperfield Cycles"):
        page.get_by_label(f"Choose {name}").check()
    page.get_by_label("Assign to").select_option(label="Firm")
    page.get_by_role("button", name="Assign", exact=True).click()
    page.wait_for_url("**/ar/?band=31-60")
    assert "Assigned 2; refused 1: Copperfield Cycles (no collections contact)." in page.content()
    rows = page.locator("#ar-customers tbody tr")
    assert "Firm" in rows.filter(has_text="Acme Widgets").inner_text()
    assert "Firm" not in rows.filter(has_text="Copperfield Cycles").inner_text()
    screenshot(page, "ar_customers_assigned")

    # Open Acme Widgets: its workflow, the next action and the timeline.
    page.get_by_role("link", name="Acme Widgets").click()
    assert page.locator("h1").inner_text() == "Acme Widgets"
    card = page.locator("#ar-workflow")
    assert "Firm" in card.inner_text() and "Active" in card.inner_text()
    assert "Send an email" in card.locator(".ar-facts").inner_text()
    timeline = page.locator("#ar-timeline")
    assert timeline.locator(".ar-tl-item").count() >= 2
    assert "Scheduled" in timeline.inner_text()
    screenshot(page, "ar_customer_workflow")

    # Pause it with a reason; the card says so and offers the practice's resume rule.
    page.get_by_label("Reason for pausing").fill("Promised to pay on Friday")
    page.get_by_role("button", name="Pause", exact=True).click()
    assert "Paused “Firm”." in page.content()
    assert "Promised to pay on Friday" in card.inner_text()
    assert "Held" in timeline.inner_text()
    screenshot(page, "ar_customer_paused")

    page.get_by_role("button", name="Resume — later actions move by the pause").click()
    assert "Resumed “Firm”." in page.content()
    assert "Active" in card.inner_text()
    assert page.get_by_role("button", name="Pause", exact=True).is_visible()
    history = page.locator("#ar-history").inner_text()
    assert "Acme Widgets put on AR workflow “Firm”" in history

    with scopes_disabled():
        acme = Customer.objects.get(client__name="Acme Widgets")
        assignment = Assignment.objects.get(customer=acme)
        assert assignment.state == Assignment.State.ACTIVE
        assert not Assignment.objects.filter(customer__client__name="Copperfield Cycles").exists()
    context.close()
