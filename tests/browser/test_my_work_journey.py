"""A staff member starts the day from the dashboard, sees a client's workflow progress, opens
My work and works a step from it in the core's focus panel, which closes with Esc.

Screenshots: var/screenshots/work_{dashboard,client,list,panel}_<width>.png.
"""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.utils import timezone
from django_scopes import scopes_disabled

from sodium.roles import Role
from tests import factories as f
from workflows import attach, building
from workflows.models import Step

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-for-tests-1"


@pytest.fixture
def world():
    with (
        mock.patch("workflows.tasks.run_step_task.delay"),
        mock.patch("sodium.tasks.deliver_message_task.delay"),
        scopes_disabled(),
    ):
        practice = f.PracticeFactory(name="Hartley & Finch", slug="hartley-finch")
        sam = f.MembershipFactory(
            practice=practice,
            role=Role.STAFF,
            user=f.UserFactory(full_name="Sam Carter", email="sam@hartleyfinch.example"),
        ).user
        acme = f.ClientFactory(practice=practice, name="Acme Trading Ltd")
        template = building.create_template(
            practice=practice, actor=sam, name="Year end", first_group="Preparation"
        )
        group = template.groups.get()
        for name in ("Prepare draft accounts", "Check the fixed asset register", "Book a call"):
            building.add_step(group, actor=sam, name=name, type="simple", mode="manual")
        today = timezone.localdate()
        task = f.TaskFactory(
            client=acme, owner=sam, name="Year-end accounts 2025",
            due_date=today + dt.timedelta(days=4),
        )  # fmt: skip
        steps = attach.attach_template(task, template, actor=sam)
        other = f.TaskFactory(
            client=f.ClientFactory(practice=practice, name="Brook Bakery"), owner=sam,
            name="VAT return Q3", due_date=today - dt.timedelta(days=2),
        )  # fmt: skip
        attach.attach_template(other, template, actor=sam)
    return {"task": task, "acme": acme, "first": steps[0]}


@pytest.mark.parametrize("width", [1280, 390])
def test_staff_work_a_step_from_my_work_in_the_focus_panel(
    live_server, browser, screenshot, world, width
):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_server.url}/sign-in/")
    page.get_by_label("Email").fill("sam@hartleyfinch.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")

    card = page.locator("section", has=page.locator("#dash-steps-heading"))
    assert "Steps waiting on you 6" in " ".join(card.locator("h2").inner_text().split())
    screenshot(page, "work_dashboard")

    page.goto(f"{live_server.url}/clients/{world['acme'].pk}/")
    assert page.get_by_role("heading", name="Workflow progress").is_visible()
    screenshot(page, "work_client")

    page.goto(f"{live_server.url}/work/")
    rows = page.locator("#work-table tbody tr")
    assert rows.count() == 6
    assert "overdue" in rows.first.inner_text()  # the VAT return's steps are late
    screenshot(page, "work_list")

    first = world["first"]
    # While the panel loads, the host slides out saying so (the answer is held back here).
    held: list = []
    page.route("**/focus/", lambda route: held.append(route))
    row = rows.filter(has_text=world["task"].name).filter(has_text=first.name)
    row.get_by_role("link", name=first.name).click()
    loading = page.locator("#focus-panel.is-loading")
    loading.wait_for()
    assert "Loading…" in loading.inner_text()
    while not held:
        page.wait_for_timeout(50)
    held[0].continue_()
    page.unroute("**/focus/")
    panel = page.locator("#focus-panel.is-open")
    panel.wait_for()
    assert page.locator("#focus-panel.is-loading").count() == 0
    assert panel.get_by_role("heading", name=world["task"].name).is_visible()
    screenshot(page, "work_panel")

    step_box = panel.locator(f"#focus-step-{first.pk}")
    step_box.get_by_role("button", name=f"Mark done {first.name}").click()
    panel.locator(".focus-flash").wait_for()
    # The list refreshes on the panel's task-progress event: the done step leaves it.
    page.wait_for_function("() => document.querySelectorAll('#work-table tbody tr').length === 5")
    with scopes_disabled():
        assert Step.objects.get(pk=first.pk).status == Step.Status.DONE

    page.keyboard.press("Escape")
    page.locator("#focus-panel.is-open").wait_for(state="detached")
    assert errors == []
    context.close()
