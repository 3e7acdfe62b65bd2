"""An AR specialist opens the receivables dashboard, works today's call — recording its
outcome and the customer's promise to pay — then pauses another customer from its page.

Screenshots: var/screenshots/ar_dashboard_<width>.png, ar_call_form_<width>.png,
ar_dashboard_after_<width>.png, ar_customer_paused_by_specialist_<width>.png.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django_scopes import scopes_disabled

from collections_ar import assigning, engine, running, statuses
from collections_ar.builder import editing
from collections_ar.models import ActionRun, Assignment, Promise
from sodium.roles import Role
from sodium.schedules.practice import today_for, working_calendar
from tests import factories as f

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-for-tests-1"


@pytest.fixture
def world():
    with scopes_disabled():
        practice = f.PracticeFactory(name="Hartley & Finch", slug="hartley-finch")
        tom = f.UserFactory(full_name="Tom Byrne", email="tom@hartleyfinch.example")
        f.MembershipFactory(practice=practice, role=Role.AR_SPECIALIST, user=tom)
        statuses.ensure_default_statuses(practice)
        workflow = editing.create_workflow(practice, actor=tom, name="Chase")
        editing.add_action(
            workflow,
            actor=tom,
            kind="call",
            base="assigned",
            days=0,
            body="Ask when {{ invoice.number }} ({{ invoice.balance }}) will be paid",
        )
        editing.add_action(
            workflow,
            actor=tom,
            kind="email",
            base="assigned",
            days=7,
            subject="Reminder",
            body="Please pay {{ customer.balance }}.",
        )
        engine.switch_workflow(workflow, actor=tom, on=True)
        today = today_for(practice)
        customers = []
        for name, mobile in (("Acme Widgets", "07700 900123"), ("Bolt Ltd", "07700 900456")):
            client = f.ClientFactory(practice=practice, name=name)
            f.ContactFactory(
                client=client,
                first_name="Ellie",
                last_name=name.split()[0],
                email=f"ellie@{name.split()[0].lower()}.example",
                mobile=mobile,
                is_billing=True,
            )
            customer = engine.get_or_create_customer(client, actor=tom)
            engine.assign_specialist(customer, tom, actor=tom)
            engine.create_invoice(
                customer,
                actor=tom,
                number=f"INV-{name[:4].upper()}",
                issue_date=today - dt.timedelta(days=45),
                due_date=today - dt.timedelta(days=15),
                total=Decimal("1250.00"),
            )
            customers.append(customer)
        morning = dt.datetime.combine(
            working_calendar(practice).working_day_on_or_before(today),
            dt.time(10, 0),
            tzinfo=ZoneInfo(practice.time_zone),
        )
        assigning.assign_workflow(customers, workflow, actor=tom, on=morning.date())
        due = ActionRun.objects.filter(practice=practice, due_at__lte=morning, state="pending")
        running.run_batch(list(due.values_list("pk", flat=True)), now=morning)
        assert ActionRun.objects.filter(kind="call", state="done").count() == 2
    return {"today": today}


@pytest.mark.parametrize("width", [1280, 390])
def test_a_specialist_works_todays_calls(live_server, browser, screenshot, world, width):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server.url}/sign-in/")
    page.get_by_label("Email").fill("tom@hartleyfinch.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")
    if width < 760:
        page.locator(".nav-toggle > summary").click()
    page.get_by_role("link", name="Receivables").first.click()
    page.wait_for_url(f"{live_server.url}/ar/dashboard/")
    calls = page.locator("#ar-calls")
    assert "Acme Widgets" in calls.inner_text() and "Bolt Ltd" in calls.inner_text()
    assert "Ask when INV-ACME (£1,250.00) will be paid" in calls.inner_text()
    screenshot(page, "ar_dashboard")

    call = page.locator(".ar-call", has_text="Acme Widgets")
    call.locator("summary").click()
    call.get_by_label("Outcome").fill("Spoke to Ellie: paying half on Friday")
    call.get_by_label("Amount").fill("625.00")
    promised = world["today"] + dt.timedelta(days=5)
    call.get_by_label("By").fill(promised.isoformat())
    screenshot(page, "ar_call_form")
    call.get_by_role("button", name="Save call").click()
    assert "Promise of £625.00 recorded; chasing paused until then." in page.content()
    assert "Acme Widgets" not in page.locator("#ar-calls").inner_text()
    assert "£625.00 by" in page.locator(".ar-promises").inner_text()
    screenshot(page, "ar_dashboard_after")

    # Bolt asks for a week's grace: the specialist pauses its chasing from its page.
    page.locator(".ar-call", has_text="Bolt Ltd").get_by_role("link", name="Bolt Ltd").click()
    page.get_by_label("Reason for pausing").fill("Owner in hospital, call back next week")
    page.get_by_role("button", name="Pause", exact=True).click()
    assert "Owner in hospital" in page.content()
    screenshot(page, "ar_customer_paused_by_specialist")

    with scopes_disabled():
        bolt = Assignment.objects.get(customer__client__name="Bolt Ltd")
        assert bolt.state == Assignment.State.PAUSED
        promise = Promise.objects.get()
        assert promise.amount == Decimal("625.00") and promise.promised_on == promised
        acme = Assignment.objects.get(customer__client__name="Acme Widgets")
        assert acme.state == Assignment.State.PAUSED
    context.close()
