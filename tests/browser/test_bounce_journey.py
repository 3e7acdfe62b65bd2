"""A bounced step: the assignee sees the bounce, corrects the address and resends, sees Sent.

The task page shows "Bounced · ann@old.example — <reason>" on the step; the focus panel shows
it too, with the form. A mistyped address is refused in place; the corrected one is saved and
the email goes out again. Delivery runs in the request (the Celery publish is replaced by the
delivery itself), so the step shows the new email as Sent at once.

Screenshots: var/screenshots/bounce_*_<width>.png.
"""

from __future__ import annotations

from unittest import mock

import pytest
from django.core import mail
from django_scopes import scopes_disabled

from sodium import outbox
from sodium.models import Contact, OutboundMessage
from sodium.roles import Role
from tests import factories as f
from tests.workflows.bounce_helpers import NEW, OLD, REASON, bounce
from tests.workflows.wf_factories import chain_template
from workflows import attach
from workflows import engine as wf_engine

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-for-tests-1"


@pytest.fixture
def world():
    with (
        mock.patch("workflows.tasks.run_step_task.delay"),
        mock.patch("sodium.tasks.deliver_message_task.delay", side_effect=outbox.deliver),
        scopes_disabled(),
    ):
        practice = f.PracticeFactory(name="Hartley & Finch", slug="hartley-finch")
        sam = f.MembershipFactory(
            practice=practice,
            role=Role.STAFF,
            user=f.UserFactory(full_name="Sam Carter", email="sam@hartleyfinch.example"),
        ).user
        acme = f.ClientFactory(practice=practice, name="Acme Trading Ltd")
        ann = f.ContactFactory(
            client=acme, first_name="Ann", last_name="Baker", email=OLD, is_main=True
        )
        task = f.TaskFactory(
            client=acme, owner=sam, name="Year-end accounts 2025", status="in_progress"
        )
        prepare, letter = attach.attach_template(task, chain_template(practice, sam), actor=sam)
        wf_engine.complete_step(prepare, actor=sam, require_checklist=False)
        wf_engine.run_step(letter.pk)
        bounce(OutboundMessage.objects.get(source_id=letter.pk))
        mail.outbox.clear()
        yield {"task": task, "letter": letter, "ann": ann}


@pytest.mark.parametrize("width", [1280, 390])
def test_assignee_corrects_a_bounced_address_and_resends(
    live_server, browser, screenshot, world, width
):
    task, letter = world["task"], world["letter"]
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_server.url}/sign-in/")
    page.get_by_label("Email").fill("sam@hartleyfinch.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")

    page.goto(f"{live_server.url}/tasks/{task.pk}/")
    card_step = page.locator(f"#step-{letter.pk}")
    assert f"Bounced · {OLD} — {REASON}" in card_step.inner_text()
    screenshot(page, "bounce_task_page")

    page.get_by_role("link", name="Work through the steps").click()
    panel = page.locator("#focus-panel.is-open")
    panel.wait_for()
    step = panel.locator(f"#focus-step-{letter.pk}")
    assert f"Bounced · {OLD} — {REASON}" in step.inner_text()
    step.get_by_label(f"Correct address for {OLD}").fill("ann@new")
    step.get_by_role("button", name="Save and resend").click()
    panel.get_by_text("“ann@new” is not an email address.").wait_for()
    screenshot(page, "bounce_panel_error")

    step = panel.locator(f"#focus-step-{letter.pk}")
    step.get_by_label(f"Correct address for {OLD}").fill(NEW)
    step.get_by_role("button", name="Save and resend").click()
    step = panel.locator(f"#focus-step-{letter.pk}")
    step.get_by_text(f"Email to {NEW}").wait_for()
    assert step.locator(".chip-sent").inner_text() == "Sent"
    assert "Bounced" not in step.inner_text()
    assert f"Saved {NEW} and sent" in step.get_by_role("status").inner_text()
    screenshot(page, "bounce_panel_resent")
    # The task page's card under the panel refreshed too.
    page.locator(f"#step-{letter.pk}").get_by_text(f"Email to {NEW}").wait_for()

    with scopes_disabled():
        assert Contact.objects.get(pk=world["ann"].pk).email == NEW
    assert [m.to for m in mail.outbox] == [[NEW]]
    assert errors == []
    context.close()
