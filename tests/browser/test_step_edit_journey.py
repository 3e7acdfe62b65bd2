"""A manager edits, for one task, a step that sends a content block, and tries a hostile block.

Signs in as the demo manager and opens "Edit for this task" on a demo step that sends the
"Year-end records request" block: the form shows the block's subject and body and says an
edit detaches this task's copy; a variable from the picker goes into the body; Save says so and
the step now has its own copy. Then a content block looping ten billion times is refused under
its body, at once. Screenshots: var/screenshots/step_edit_*_<width>.png.
"""

from __future__ import annotations

import time
from unittest import mock

import pytest
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from sodium import demo
from workflows.models import ContentBlock, Step

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HOSTILE = "{% for a in (1..100000) %}{% for b in (1..100000) %}x{% endfor %}{% endfor %}"


@pytest.fixture
def demo_practice():
    with (
        mock.patch("workflows.tasks.run_step_task.delay"),
        mock.patch("sodium.tasks.deliver_message_task.delay"),
        scopes_disabled(),
    ):
        yield demo.build_demo()


@pytest.mark.parametrize("width", [1280, 390])
def test_manager_edits_a_block_step_for_one_task_and_a_hostile_block_is_refused(
    live_server, browser, screenshot, demo_practice, width
):
    with scopes_disabled():
        step = (
            Step.objects.filter(
                practice=demo_practice,
                content_block__isnull=False,
                status__in=[Step.Status.BLOCKED, Step.Status.READY],
            )
            .select_related("content_block")
            .order_by("pk")
            .first()
        )
    assert step is not None, "the demo has no open step sending a content block"
    block = step.content_block

    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/sign-in/")
        page.get_by_label("Email").fill(demo.DEMO_MANAGER_EMAIL)
        page.get_by_label("Password").fill(demo.DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{live_server.url}/")

        page.goto(f"{live_server.url}/workflows/steps/{step.pk}/edit/")
        expect(page.locator("#step-email-source")).to_contain_text(
            f"This step sends the content block {block.name}"
        )
        expect(page.locator("#step-email-source")).to_contain_text("detached from the block")
        expect(page.get_by_label("Subject")).to_have_value(block.subject)
        body = page.get_by_label("Body")
        expect(body).to_have_value(block.body)
        screenshot(page, "step_edit_block")

        body.fill("Dear ")
        body.press("End")
        page.get_by_text("Insert a variable").click()
        page.locator('[data-insert-token="{{ client.name }}"]').click()
        expect(body).to_have_value("Dear {{ client.name }}")
        page.get_by_role("button", name="Save").click()
        page.wait_for_url(f"{live_server.url}/tasks/{step.task_id}/")
        expect(page.get_by_text(f"Saved “{step.name}” for this task.")).to_be_visible()
        with scopes_disabled():
            step.refresh_from_db()
        assert step.content_block_id is None
        assert step.body == "Dear {{ client.name }}"

        page.goto(f"{live_server.url}/workflows/content-blocks/new/")
        page.get_by_label("Name").fill("Hostile")
        page.get_by_label("Subject").fill("Hi")
        page.get_by_label("Body").fill(HOSTILE)
        started = time.monotonic()
        page.get_by_role("button", name="Save content block").click()
        expect(page.get_by_text("This template loops too many times").first).to_be_visible()
        assert time.monotonic() - started < 10
        screenshot(page, "step_edit_hostile_block")
        with scopes_disabled():
            assert not ContentBlock.objects.filter(name="Hostile").exists()
    finally:
        context.close()
