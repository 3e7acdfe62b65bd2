"""A manager creates a repeating flow for the clients of a tag through the six stages.

Signs in as the demo manager, opens the flow creator, chooses "Create a repeating flow",
starts from the Month-end review template and moves a check down, keeps the monthly
scheduled date (checking the dates worked out), goes Back once, sets a rule, adds the
clients tagged "Payroll", sets a second reviewer for all, reviews, jumps back to the cadence
by its link under the progress bar, returns to the review and presses Go. Then checks the
flow and its clients in the database.

Screenshots: var/screenshots/flow_creator_<stage>_<width>.png.
"""

from __future__ import annotations

import re
from unittest import mock

import pytest
from django_scopes import scopes_disabled
from playwright.sync_api import Page, expect

from checks.models import Flow, FlowClient, FlowTemplate
from sodium import demo
from sodium.models import Client, Membership, Tag

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TAG = "Payroll"
NAME = "Payroll month-end"


@pytest.fixture
def demo_practice():
    with (
        mock.patch("workflows.tasks.run_step_task.delay"),
        mock.patch("sodium.tasks.deliver_message_task.delay"),
        scopes_disabled(),
    ):
        yield demo.build_demo(history_months=1)


def _stage_url(stage: str) -> re.Pattern[str]:
    return re.compile(rf"/checks/flows/creator/[^/]+/{stage}/$")


def _at(page: Page, stage: str, heading: str) -> None:
    page.wait_for_url(_stage_url(stage))
    expect(page.locator("#wz-stage-heading")).to_have_text(heading)


def _next(page: Page, stage: str, heading: str) -> None:
    page.locator("#creator").get_by_role("button", name=re.compile(r"^Next: ")).click()
    _at(page, stage, heading)


def _shot(page: Page, screenshot, name: str) -> None:
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, f"flow_creator_{name}")


@pytest.mark.parametrize("width", [1280, 390])
def test_manager_creates_a_repeating_flow_by_tag(
    live_server, browser, screenshot, demo_practice, width
):
    with scopes_disabled():
        tagged = set(
            Client.objects.filter(
                practice=demo_practice, status="active", tags__name=TAG
            ).values_list("pk", flat=True)
        )
        tag = Tag.objects.get(practice=demo_practice, name=TAG)
        owner = Membership.objects.get(practice=demo_practice, role="owner").user
    assert len(tagged) >= 2, "the demo needs clients tagged Payroll"

    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/sign-in/")
        page.get_by_label("Email").fill(demo.DEMO_MANAGER_EMAIL)
        page.get_by_label("Password").fill(demo.DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{live_server.url}/")

        # The creator: two big choices, and the templates below.
        page.goto(f"{live_server.url}/checks/flows/creator/")
        expect(page.get_by_text("Month-end review").first).to_be_visible()
        _shot(page, screenshot, "start")
        page.get_by_role("button", name=re.compile(r"^Create a repeating flow")).click()
        _at(page, "checks", "Set checks")

        # 1. Set checks: from a template, one check moved down.
        page.get_by_label("Start from a template").select_option(label="Month-end review")
        page.get_by_role("button", name="Use this template").click()
        expect(page.get_by_label("Flow name")).to_have_value("Month-end review")
        page.get_by_label("Flow name").fill(NAME)
        chosen = page.locator(".fc-check.is-chosen")
        expect(chosen).to_have_count(4)
        expect(chosen.first).to_contain_text("1. Bank reconciliation")
        page.get_by_role("button", name="Move Bank reconciliation down").click()
        expect(page.locator(".fc-check.is-chosen").nth(1)).to_contain_text("2. Bank reconciliation")
        _shot(page, screenshot, "checks")
        _next(page, "cadence", "Set cadence")

        # 2. Set cadence: the monthly scheduled date, with its dates worked out.
        expect(page.get_by_label("Scheduled date")).to_be_checked()
        expect(page.locator(".fc-dates table tbody tr")).to_have_count(3)
        expect(page.locator(".fc-dates")).to_contain_text("never today")
        _shot(page, screenshot, "cadence")
        # Back once: the checks are as they were left.
        page.locator("#creator").get_by_role("button", name="← Back").click()
        _at(page, "checks", "Set checks")
        expect(page.get_by_label("Flow name")).to_have_value(NAME)
        _next(page, "cadence", "Set cadence")
        page.get_by_label("Complete within").fill("10")
        page.get_by_label("Unit").nth(1).select_option("days")
        _next(page, "rules", "Set rules")

        # 3. Set rules: "transactions since" follows the month.
        months = page.get_by_label("Transactions since (months back)")
        expect(months).to_have_value("1")
        _shot(page, screenshot, "rules")
        _next(page, "clients", "Add clients")

        # 4. Add clients by tag.
        expect(page.locator("#fc-client-search")).to_be_visible()  # the filter box's script ran
        page.locator(".fc-by").nth(1).get_by_label(re.compile(rf"{TAG} \(")).check()
        _shot(page, screenshot, "clients")
        _next(page, "team", "Team")

        # 5. Team: the account people by default; the owner as second reviewer for all.
        expect(page.locator(".fc-team tbody tr")).to_have_count(len(tagged))
        page.get_by_label("Second reviewer for every client").select_option(str(owner.pk))
        page.get_by_role("button", name="Set for all").click()
        expect(page.locator(".fc-team tbody tr").first.locator("select").nth(2)).to_have_value(
            str(owner.pk)
        )
        _shot(page, screenshot, "team")
        _next(page, "review", "Review & Go")

        # 6. Review; jump to the cadence by its progress link, then straight back to review.
        summary = page.locator(".wz-summary")
        expect(summary).to_contain_text("complete within 10 days")
        expect(summary).to_contain_text(f"{len(tagged)} clients")
        page.locator(".wz-stages").get_by_role("link", name=re.compile("Set cadence")).click()
        _at(page, "cadence", "Set cadence")
        page.get_by_role("button", name="Save and review").click()
        _at(page, "review", "Review & Go")
        _shot(page, screenshot, "review")
        page.get_by_role("button", name="Go: create the flow").click()
        page.wait_for_url(re.compile(r"/checks/flows/\d+/$"))
        expect(page.locator(".flashes")).to_contain_text(f"Created the flow “{NAME}”")
    finally:
        context.close()

    with scopes_disabled():
        flow = Flow.objects.get(practice=demo_practice, name=NAME)
        assert flow.kind == Flow.Kind.REPEATING
        assert flow.cadence["within"] == 10 and flow.cadence["within_unit"] == "days"
        assert [c.check_key for c in flow.checks.all()][:2] == [
            "transaction_cleanup",
            "bank_reconciliation",
        ]
        clients = FlowClient.objects.filter(flow=flow)
        assert {fc.client_id for fc in clients} == tagged
        assert all(fc.second_reviewer_id == owner.pk for fc in clients)
        assert tag.pk  # the tag the clients came from


@pytest.mark.parametrize("width", [1280, 390])
def test_manager_adds_a_flow_template_with_a_custom_check(
    live_server, browser, screenshot, demo_practice, width
):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/sign-in/")
        page.get_by_label("Email").fill(demo.DEMO_MANAGER_EMAIL)
        page.get_by_label("Password").fill(demo.DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{live_server.url}/")

        page.goto(f"{live_server.url}/checks/flows/templates/")
        expect(page.get_by_role("link", name="Year-end review")).to_be_visible()
        _shot(page, screenshot, "templates")
        page.get_by_role("link", name="New template").click()
        page.wait_for_url("**/checks/flows/templates/new/")
        page.get_by_label("Template name").fill("Payroll year end")
        page.get_by_label("Category").select_option("year_end")
        page.get_by_label(re.compile(r"Bank reconciliation")).check()
        page.get_by_label(re.compile(r"Payroll journals posted")).check()
        # Move the custom check first (the form is shown again, nothing saved yet).
        page.get_by_role("button", name="Put the ticked checks in order").click()
        page.get_by_role("button", name=re.compile(r"Move Bank reconciliation down")).click()
        expect(page.locator(".fc-check.is-chosen").first).to_contain_text("Payroll journals")
        _shot(page, screenshot, "template_form")
        page.get_by_role("button", name="Create template").click()
        page.wait_for_url("**/checks/flows/templates/")
        expect(page.locator(".flashes")).to_contain_text("Added the flow template Payroll year end")
    finally:
        context.close()
    with scopes_disabled():
        template = FlowTemplate.objects.get(practice=demo_practice, name="Payroll year end")
        refs = [c.ref for c in template.checks.all()]
        assert refs[1] == "builtin:bank_reconciliation" and refs[0].startswith("custom:")
