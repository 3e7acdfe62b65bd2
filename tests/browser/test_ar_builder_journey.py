"""An AR manager clones a prebuilt workflow, adds an email (previewed for a customer), an SMS
(with its segment count) and a status action, chains it to another workflow, previews the
timeline for a customer, saves and switches it ON.

Screenshots: var/screenshots/ar_workflows_<width>.png, ar_action_email_preview_<width>.png,
ar_action_sms_<width>.png, ar_builder_timeline_<width>.png, ar_workflows_on_<width>.png.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django_scopes import scopes_disabled

from collections_ar import engine, statuses
from collections_ar.builder import prebuilt
from collections_ar.models import ARAction, ARWorkflow
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
        prebuilt.ensure_prebuilt_workflows(practice)
        acme = f.ClientFactory(practice=practice, name="Acme Widgets")
        f.ContactFactory(
            client=acme,
            first_name="Ellie",
            last_name="Ali",
            email="ellie@acme.example",
            mobile="07700 900123",
            is_billing=True,
        )
        customer = engine.get_or_create_customer(acme, actor=rachel)
        today = today_for(practice)
        engine.create_invoice(
            customer,
            actor=rachel,
            number="INV-7001",
            issue_date=today - dt.timedelta(days=40),
            due_date=today - dt.timedelta(days=10),
            total=Decimal("1250.00"),
        )
    return {"practice": practice}


def _add(page, kind: str) -> None:
    page.locator(".wf-add > summary").click()
    page.locator(".wf-add .menu").get_by_role("link", name=kind).click()


@pytest.mark.parametrize("width", [1280, 390])
def test_an_ar_manager_builds_a_workflow_from_a_prebuilt_one(
    live_server, browser, screenshot, world, width
):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server.url}/sign-in/")
    page.get_by_label("Email").fill("rachel@hartleyfinch.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")

    page.goto(f"{live_server.url}/ar/")
    page.get_by_role("navigation", name="Receivables").get_by_role("link", name="Workflows").click()
    assert "Gentle reminder" in page.locator("#ar-workflows").inner_text()
    screenshot(page, "ar_workflows")

    # Clone the prebuilt "Gentle reminder": the copy opens in the builder, OFF.
    page.get_by_role("button", name="Clone Gentle reminder").click()
    assert page.locator("h1").inner_text() == "Copy of Gentle reminder"
    assert page.get_by_role("switch").get_attribute("aria-checked") == "false"

    # An email a week after the action before, previewed for Acme Widgets.
    _add(page, "Send an email")
    page.get_by_label("Days").fill("7")
    page.get_by_label("Counted from").select_option("assigned")
    page.get_by_label("Subject").fill("Still unpaid: {{ customer.balance }}")
    page.get_by_label("Email", exact=True).fill(
        "Dear {{ contact.first_name }},\n\n{{ invoice.number }} is {{ invoice.days_overdue }} "
        "days overdue. Please pay {{ customer.balance }}."
    )
    page.get_by_label("Preview for").select_option(label="Acme Widgets")
    page.get_by_role("button", name="Preview").click()
    preview = page.locator("#wf-preview")
    assert "Preview for Acme Widgets" in preview.inner_text()
    assert "Dear Ellie," in preview.inner_text() and "£1,250.00" in preview.inner_text()
    screenshot(page, "ar_action_email_preview")
    page.get_by_role("button", name="Add action").click()
    assert "Added “Send an email”." in page.content()

    # An SMS two days later, its segments counted as it is typed.
    _add(page, "Send an SMS")
    page.get_by_label("Days").fill("2")
    page.get_by_label("Text", exact=True).fill(
        "{{ practice.sender_name }}: {{ customer.balance }} is overdue. Please call us."
    )
    assert "1 segment" in page.locator(".sms-counter").inner_text()
    screenshot(page, "ar_action_sms")
    page.get_by_role("button", name="Add action").click()
    assert "Added “Send an SMS”." in page.content()

    # The collection status becomes Escalated on the same day.
    _add(page, "Update the invoice status")
    page.get_by_label("Set the collection status to").select_option(label="Escalated")
    page.get_by_role("button", name="Add action").click()
    assert "Added “Update the invoice status”." in page.content()
    actions = page.locator(".wf-actions").inner_text()
    assert actions.rindex("Send an SMS") < actions.rindex("Update the invoice status")

    # General settings: continue with "Final notice"; Save changes.
    page.get_by_label("Continue with another workflow").select_option(label="Final notice (Off)")
    page.get_by_role("button", name="Save changes").click()
    assert "Saved your changes." in page.content()

    # The timeline for Acme Widgets: dates, recipients and the rendered text, nothing sent.
    page.get_by_label("Customer").select_option(label="Acme Widgets (1 open)")
    page.get_by_role("button", name="Show timeline").click()
    timeline = page.locator("#timeline")
    timeline.locator(".wf-tl-summary, .wf-timeline-summary").wait_for()
    text = timeline.inner_text()
    assert "Acme Widgets, assigned" in text
    assert "Copy of Gentle reminder → Final notice" in text
    assert "Ellie Ali <ellie@acme.example>" in text and "07700 900123" in text
    assert "becomes “Escalated”" in text
    timeline.get_by_text("Show the email").first.click()
    assert "Dear Ellie," in timeline.inner_text()
    screenshot(page, "ar_builder_timeline")

    # Switch it ON.
    page.get_by_role("switch", name="Copy of Gentle reminder: off — switch on").click()
    assert "“Copy of Gentle reminder” is ON" in page.content()
    assert page.get_by_role("switch").get_attribute("aria-checked") == "true"
    page.goto(f"{live_server.url}/ar/workflows/")
    row = page.locator("tr", has_text="Copy of Gentle reminder")
    assert "ON" in row.inner_text()
    screenshot(page, "ar_workflows_on")

    with scopes_disabled():
        copy = ARWorkflow.objects.get(name="Copy of Gentle reminder")
        assert copy.state == ARWorkflow.State.ON
        assert copy.continue_with.name == "Final notice"
        kinds = list(
            ARAction.objects.filter(workflow=copy)
            .order_by("position")
            .values_list("kind", flat=True)
        )
        assert kinds[-3:] == ["email", "sms", "status"]
    context.close()
