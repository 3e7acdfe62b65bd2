"""A manager reads the flows dashboard: runs overdue, due within 7 days and upcoming, with
counts and progress; filters by assignee and by tag; opens a repeating flow's page and its
edit page.

Screenshots: var/screenshots/flows_dashboard_<width>.png, flows_dashboard_filtered_<width>.png,
flow_detail_<width>.png, flow_edit_<width>.png, flows_list_<width>.png.
"""

from __future__ import annotations

import datetime as dt

import pytest
from dateutil.relativedelta import relativedelta
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from checks.flows import making
from checks.flows.cadence import Cadence
from checks.models import FlowClient, FlowRun, FlowTemplate
from sodium.roles import Role
from sodium.schedules.practice import today_for
from tests import factories as f

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-for-tests-1"
R = FlowRun.Status


@pytest.fixture
def world():
    with scopes_disabled():
        practice = f.PracticeFactory(name="Hartley & Finch", slug="hartley-finch")
        manager = f.UserFactory(full_name="Maya Patel", email="maya@hartleyfinch.example")
        f.MembershipFactory(practice=practice, role=Role.MANAGER, user=manager)
        sam = f.UserFactory(full_name="Sam Okafor", email="sam@hartleyfinch.example")
        f.MembershipFactory(practice=practice, role=Role.STAFF, user=sam)
        lee = f.UserFactory(full_name="Lee Chen", email="lee@hartleyfinch.example")
        f.MembershipFactory(practice=practice, role=Role.STAFF, user=lee)
        retail = f.TagFactory(practice=practice, name="Retail")
        names = [
            "Acorn Bakery Ltd", "Bluebell Florists", "Copperleaf Design Ltd", "Driftwood Joinery",
            "Elm Street Dental", "Fernhill Farm Shop", "Granite & Co", "Harbour Lights Café",
        ]  # fmt: skip
        clients = [
            f.ClientFactory(practice=practice, name=n, year_end_day=31, year_end_month=3)
            for n in names
        ]
        retail.clients.add(clients[0], clients[1], clients[5], clients[7])
        template = FlowTemplate.objects.create(practice=practice, name="Month-end review")
        today = today_for(practice)
        month = today - relativedelta(months=1)
        start, end = month + relativedelta(day=1), month + relativedelta(day=31)

        def team(i, c):
            who = sam if i % 2 == 0 else lee
            return making.ClientTeam(c.pk, who.pk, manager.pk)

        making.create_flow(
            practice,
            making.FlowSpec(
                kind="one_off",
                name="Month-end review",
                checks=(
                    "builtin:bank_reconciliation",
                    "builtin:lock_date",
                    "builtin:vat",
                    "builtin:duplicate_transactions",
                    "builtin:control_accounts",
                ),  # fmt: skip
                clients=tuple(team(i, c) for i, c in enumerate(clients)),
                template_id=template.pk,
                period_start=start,
                period_end=end,
                due_date=end + relativedelta(days=30),
            ),
            actor=manager,
        )
        # Spread the runs over the sections and statuses (the arrangement of the world).
        spread = [
            (-6, R.IN_PROGRESS, 2), (-2, R.NOT_STARTED, 0), (0, R.IN_REVIEW, 5),
            (3, R.IN_PROGRESS, 4), (6, R.NOT_STARTED, 0), (12, R.IN_PROGRESS, 1),
            (25, R.NOT_STARTED, 0), (-10, R.COMPLETE, 5),
        ]  # fmt: skip
        for client, (days, status, done) in zip(clients, spread, strict=True):
            FlowRun.objects.filter(client=client).update(
                due_date=today + relativedelta(days=days),
                status=status,
                checks_done=done,
                review_stage=1 if status == R.IN_REVIEW else 0,
                completed_at=dt.datetime.now(dt.UTC) if status == R.COMPLETE else None,
            )
        monthly = making.create_flow(
            practice,
            making.FlowSpec(
                kind="repeating",
                name="Year-end health check",
                checks=("builtin:lock_date", "builtin:dormant_accounts"),
                clients=tuple(
                    making.ClientTeam(c.pk, sam.pk, manager.pk, lee.pk) for c in clients[:3]
                ),
                cadence=Cadence(mode="event", event="year_end", offset=2, offset_unit="weeks"),
            ),
            actor=manager,
        )
        # A client whose date went missing since: the flow's page says why it is skipped.
        FlowClient.objects.filter(flow=monthly, client=clients[2]).update(
            next_date=None, skip_reason="no year end"
        )
        return {"flow": monthly, "sam": sam, "retail": retail}


def sign_in(page, live_server) -> None:
    page.goto(f"{live_server.url}/sign-in/")
    page.get_by_label("Email").fill("maya@hartleyfinch.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")


@pytest.mark.parametrize("width", [1280, 390])
def test_a_manager_reads_filters_and_opens_a_flow(live_server, browser, screenshot, world, width):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/checks/flows/")
    assert page.get_by_role("heading", name="Flows", exact=True).is_visible()
    overdue = page.locator("#flows-overdue")
    soon = page.locator("#flows-soon")
    upcoming = page.locator("#flows-upcoming")
    assert overdue.locator("tbody tr").count() == 2
    assert soon.locator("tbody tr").count() == 3
    assert upcoming.locator("tbody tr").count() == 2
    assert "Complete this month" in page.locator(".flows-stats").inner_text()
    assert "2 of 5" in overdue.inner_text()
    assert page.get_by_role("link", name="Create a flow").is_visible()
    screenshot(page, "flows_dashboard")

    page.get_by_label("Assignee").select_option(label="Lee Chen")
    page.wait_for_url("**/checks/flows/?*assignee=*")
    page.locator("#flows-body .flows-filtered").wait_for()
    page.get_by_label("Tag").select_option(label="Retail")
    page.wait_for_url("**tag=*")
    expect(page.locator("#flows-body tbody tr")).to_have_count(2)
    body = page.locator("#flows-body").inner_text()
    assert "Bluebell Florists" in body and "Fernhill Farm Shop" in body
    assert "Acorn Bakery Ltd" not in body  # Retail, but Sam's
    screenshot(page, "flows_dashboard_filtered")

    page.goto(f"{live_server.url}/checks/flows/list/")
    assert page.get_by_role("link", name="Year-end health check").is_visible()
    screenshot(page, "flows_list")
    page.get_by_role("link", name="Year-end health check").click()
    page.get_by_role("heading", name="Clients").wait_for()
    assert "no year end" in page.locator("main").inner_text()
    assert page.get_by_role("button", name="Pause").is_visible()
    screenshot(page, "flow_detail")
    page.get_by_role("link", name="Edit").click()
    page.get_by_role("heading", name="Edit Year-end health check").wait_for()
    screenshot(page, "flow_edit")
    context.close()
