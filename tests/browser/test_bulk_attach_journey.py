"""A manager ticks every task on the list, attaches "Year-end accounts" to the ten of them in
one action and reads the summary: eight attached, two refused (one has that template
already, one another workflow) and why.

Screenshots: var/screenshots/bulk_{list,ticked,summary,after}_<width>.png.
"""

from __future__ import annotations

from unittest import mock

import pytest
from django_scopes import scopes_disabled

from sodium.models import Task
from sodium.roles import Role
from tests import factories as f
from workflows import attach, building
from workflows.models import StepGroup

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-for-tests-1"


@pytest.fixture
def world():
    with mock.patch("workflows.tasks.run_step_task.delay"), scopes_disabled():
        practice = f.PracticeFactory(name="Hartley & Finch", slug="hartley-finch")
        maya = f.MembershipFactory(
            practice=practice,
            role=Role.MANAGER,
            user=f.UserFactory(full_name="Maya Patel", email="maya@hartleyfinch.example"),
        ).user
        template = building.create_template(
            practice=practice, actor=maya, name="Year-end accounts", first_group="Preparation"
        )
        group = template.groups.get()
        for name in ("Request records", "Prepare draft accounts", "Partner review"):
            building.add_step(group, actor=maya, name=name, type="simple", mode="manual")
        vat = building.create_template(practice=practice, actor=maya, name="VAT return")
        building.add_step(
            vat.groups.get(), actor=maya, name="File the return", type="simple", mode="manual"
        )
        names = [
            "ACME Ltd", "Brook Bakery", "Cedar Dental", "Dale Joinery", "Elm Florist",
            "Fern Architects", "Glen Plumbing", "Heron Trust", "Ivy Consulting",
        ]  # fmt: skip
        tasks = [
            f.TaskFactory(
                client=f.ClientFactory(practice=practice, name=name),
                owner=maya,
                name="Year-end accounts 2026",
            )
            for name in names
        ]
        acme = tasks[0].client
        has_vat = f.TaskFactory(client=acme, owner=maya, name="VAT Q3")
        attach.attach_template(has_vat, vat, actor=maya)
        attach.attach_template(tasks[1], template, actor=maya)  # Brook Bakery has it already
        tasks[-1].status = Task.Status.ON_HOLD  # on hold is still open: it may get a workflow
        tasks[-1].save(update_fields=["status"])
        f.TaskFactory(client=acme, owner=maya, name="Payroll 2025", status=Task.Status.DONE)
    return {"tasks": [*tasks, has_vat]}


@pytest.mark.parametrize("width", [1280, 390])
def test_a_manager_attaches_a_template_to_ten_tasks_at_once(
    live_server, browser, screenshot, world, width
):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_server.url}/sign-in/")
    page.get_by_label("Email").fill("maya@hartleyfinch.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")

    page.goto(f"{live_server.url}/tasks/")
    assert page.locator('input[name="task"]').count() == 10  # open tasks only
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    screenshot(page, "bulk_list")

    page.get_by_label("All 10 on this page").check()
    assert page.locator('input[name="task"]:checked').count() == 10
    assert page.locator("#bulk-count").inner_text() == "10 tasks chosen."
    # Unticking one row leaves the page box half ticked, and the count follows.
    page.get_by_label("Choose VAT Q3 for ACME Ltd").uncheck()
    assert page.locator("#bulk-count").inner_text() == "9 tasks chosen."
    assert page.evaluate("document.getElementById('bulk-all-page').indeterminate")
    page.get_by_label("Choose VAT Q3 for ACME Ltd").check()
    page.get_by_label("Workflow template").select_option(label="Year-end accounts")
    screenshot(page, "bulk_ticked")

    page.get_by_role("button", name="Attach", exact=True).click()
    page.wait_for_url(f"{live_server.url}/tasks/bulk/summary/")
    headline = page.locator(".bulk-headline").inner_text()
    assert headline == "Attached ‘Year-end accounts’ to 8 tasks. 2 refused."
    refused = page.locator("#bulk-refused-heading + p + ul").inner_text()
    assert "ACME Ltd — VAT Q3 already has a workflow (‘VAT return’)." in refused
    assert "Brook Bakery — Year-end accounts 2026 already has ‘Year-end accounts’." in refused
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    screenshot(page, "bulk_summary")

    with scopes_disabled():
        assert StepGroup.objects.filter(template__name="Year-end accounts").count() == 1 + 8
    page.get_by_role("link", name="Back to the tasks").first.click()
    page.wait_for_url(f"{live_server.url}/tasks/")
    screenshot(page, "bulk_after")
    assert errors == []
    context.close()


def test_the_bulk_form_works_without_javascript(live_server, browser, world):
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, java_script_enabled=False
    )
    page = context.new_page()
    page.goto(f"{live_server.url}/sign-in/")
    page.get_by_label("Email").fill("maya@hartleyfinch.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/tasks/")
    # The page box is a field the server reads: ticking it alone chooses the whole page.
    page.get_by_label("All 10 on this page").check()
    assert page.locator('input[name="task"]:checked').count() == 0
    page.get_by_label("New due date").fill("2027-01-31")
    page.get_by_role("button", name="Set due date").click()
    page.wait_for_url(f"{live_server.url}/tasks/bulk/summary/")
    assert page.locator(".bulk-headline").inner_text() == "Set 10 tasks due on 31 Jan 2027."
    with scopes_disabled():
        ids = [t.pk for t in world["tasks"]]
        assert Task.objects.filter(pk__in=ids, due_date="2027-01-31").count() == 10
    context.close()
