"""A manager reads the dry run of a template against a task before attaching it, opens one
message's text, attaches the template and reads the task's own timeline, where what went out
is marked sent.

Screenshots: var/screenshots/dry_run_{template,email,task}_<width>.png.
"""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.utils import timezone
from django_scopes import scopes_disabled

from sodium.roles import Role
from tests import factories as f
from workflows import attach, building, engine

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-for-tests-1"
EMAIL = {
    "type": "email",
    "mode": "automatic",
    "body": "Dear {{ contacts.main.first_name }}, a note about {{ task.name }}.",
    "to_recipients": ["contact:main"],
}


@pytest.fixture
def world():
    with scopes_disabled():
        practice = f.PracticeFactory(name="Hartley & Finch", slug="hartley-finch")
        maya = f.MembershipFactory(
            practice=practice,
            role=Role.MANAGER,
            user=f.UserFactory(full_name="Maya Patel", email="maya@hartleyfinch.example"),
        ).user
        template = building.create_template(practice=practice, actor=maya, name="Year end")
        group = template.groups.get()
        welcome = building.add_step(
            group, actor=maya, name="Welcome", subject="Welcome, {{ client.name }}", **EMAIL
        )
        prepare = building.add_step(
            group, actor=maya, name="Prepare accounts", type="simple", depends_on=[welcome]
        )
        building.add_step(
            group,
            actor=maya,
            name="Accounts ready",
            subject="Your accounts are ready",
            depends_on=[prepare],
            **EMAIL,
        )
        building.add_step(
            group,
            actor=maya,
            name="Filing reminder",
            subject="We file soon",
            send_rule="before_due",
            send_days=10,
            **EMAIL,
        )
        client = f.ClientFactory(practice=practice, name="Acme Ltd")
        f.ContactFactory(client=client, first_name="Ann", email="ann@acme.example", is_main=True)
        task = f.TaskFactory(
            client=client,
            owner=maya,
            name="Accounts 2026",
            status="in_progress",
            due_date=timezone.localdate() + dt.timedelta(days=60),
        )
    return {"practice": practice, "maya": maya, "template": template, "task": task}


@pytest.mark.parametrize("width", [1280, 390])
def test_a_manager_reads_the_dry_run_then_the_tasks_timeline(
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

    template = world["template"]
    page.goto(f"{live_server.url}/workflows/templates/{template.pk}/")
    page.get_by_role("link", name="Dry run").click()
    page.get_by_label("Try it on a task").select_option(value=str(world["task"].pk))
    page.get_by_role("button", name="Show the timeline").click()
    items = page.locator(".dry-run-item")
    titles = [t.split(" · ")[0].strip() for t in items.locator(".row-title").all_inner_texts()]
    # What has a known moment comes first, in time: the welcome now, the filing reminder ten
    # days before the due date; then the person's step and the email that waits for it.
    assert titles == ["Welcome", "Filing reminder", "Prepare accounts", "Accounts ready"]
    assert "After “Prepare accounts” is done" in items.nth(3).inner_text()
    assert "To ann@acme.example" in items.nth(0).inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    screenshot(page, "dry_run_template")

    page.get_by_text("Welcome, Acme Ltd").click()
    body = items.nth(0).locator(".email-text")
    assert body.is_visible()
    assert body.inner_text() == "Dear Ann, a note about Accounts 2026."
    screenshot(page, "dry_run_email")

    # Attached, the welcome runs at once (as a worker would run it) and is queued to go.
    with (
        scopes_disabled(),
        mock.patch("workflows.tasks.run_step_task.delay", side_effect=engine.run_step),
        mock.patch("sodium.tasks.deliver_message_task.delay"),
    ):
        attach.attach_template(world["task"], template, actor=world["maya"])
    page.goto(f"{live_server.url}/tasks/{world['task'].pk}/")
    page.get_by_role("link", name="Timeline").click()
    assert page.get_by_role("heading", name="What Accounts 2026 will send").is_visible()
    titles = [
        t.split(" · ")[0].strip()
        for t in page.locator(".dry-run-item .row-title").all_inner_texts()
    ]
    assert titles == ["Welcome", "Filing reminder", "Prepare accounts", "Accounts ready"]
    assert "Sent" in page.locator(".dry-run-item").first.inner_text()
    screenshot(page, "dry_run_task")
    assert errors == []
    context.close()
