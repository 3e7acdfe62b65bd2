"""A manager drags template steps into place: up its group, then into another group.

Signs in as the demo manager, opens a template with two groups ("Records": a draft, an email
waiting for it and a free step; "Review": one step), drags the free step to the top of its
group, then into the Review group; then drags the email (which waits for the draft) into
Review and is told why it cannot go, and the page shows the order the server kept. Checked on
the page and in the database. Screenshots: var/screenshots/template_sort_*_<width>.png.
"""

from __future__ import annotations

from unittest import mock

import pytest
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from sodium import demo
from sodium.models import User
from tests.workflows.wf_factories import chain_template, simple_step
from workflows import building
from workflows.models import TemplateStep

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def template():
    with (
        mock.patch("workflows.tasks.run_step_task.delay"),
        mock.patch("sodium.tasks.deliver_message_task.delay"),
        scopes_disabled(),
    ):
        practice = demo.build_demo()
        manager = User.objects.get(email=demo.DEMO_MANAGER_EMAIL)
        template = chain_template(practice, manager)
        records = template.groups.get()
        building.rename_group(records, actor=manager, name="Records")
        building.add_step(records, actor=manager, **simple_step(name="Book the meeting"))
        review = building.add_group(template, actor=manager, name="Review")
        building.add_step(review, actor=manager, **simple_step(name="Partner review"))
        yield template


def drag(page, item, target, *, above: bool) -> None:
    """Drag `item` by its handle onto `target`, just inside its top (or bottom) edge."""
    handle = item.locator(".tpl-step-handle").bounding_box()
    box = target.bounding_box()
    y = box["y"] + (6 if above else box["height"] - 6)
    page.mouse.move(handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2)
    page.mouse.down()
    page.mouse.move(handle["x"] + 4, handle["y"] + (-8 if above else 8), steps=4)
    # Slowly, so Sortable (animating the others out of the way) sees each row passed.
    page.mouse.move(box["x"] + 60, y, steps=25)
    page.wait_for_timeout(200)
    page.mouse.move(box["x"] + 62, y + (1 if above else -1), steps=3)
    page.mouse.up()


def names(group) -> list[str]:
    with scopes_disabled():
        return list(
            TemplateStep.objects.filter(group=group)
            .order_by("position", "id")
            .values_list("name", flat=True)
        )


@pytest.mark.parametrize("width", [1280, 390])
def test_manager_drags_a_step_up_and_into_another_group(
    live_server, browser, screenshot, template, width
):
    with scopes_disabled():
        records, review = list(template.groups.order_by("position"))
        steps = {s.name: s.pk for s in TemplateStep.objects.filter(group__template=template)}
    # Tall enough at 390 px that both groups are in view: a mouse drag cannot scroll the page.
    context = browser.new_context(viewport={"width": width, "height": 900 if width > 400 else 1600})
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/sign-in/")
        page.get_by_label("Email").fill(demo.DEMO_MANAGER_EMAIL)
        page.get_by_label("Password").fill(demo.DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{live_server.url}/")
        page.goto(f"{live_server.url}/workflows/templates/{template.pk}/")

        free = page.locator(f"#template-step-{steps['Book the meeting']}")
        draft = page.locator(f"#template-step-{steps['Prepare draft accounts']}")
        expect(free.locator(".tpl-step-handle")).to_be_visible()
        screenshot(page, "template_sort_before")

        drag(page, free, draft, above=True)
        expect(page.locator("#template-groups .flash")).to_have_text("Moved Book the meeting.")
        assert names(records) == [
            "Book the meeting",
            "Prepare draft accounts",
            "Send welcome email",
        ], names(records)
        expect(page.locator(f"#group-{records.pk} .tpl-step .row-title").first).to_have_text(
            "Book the meeting"
        )

        free = page.locator(f"#template-step-{steps['Book the meeting']}")
        partner = page.locator(f"#template-step-{steps['Partner review']}")
        drag(page, free, partner, above=False)
        expect(page.locator("#template-groups .flash")).to_have_text(
            "Moved Book the meeting to Review."
        )
        assert names(review) == ["Partner review", "Book the meeting"]
        expect(page.locator(f"#group-{review.pk} .tpl-step .row-title")).to_have_text(
            ["Partner review", "Book the meeting"]
        )
        screenshot(page, "template_sort_moved")

        email = page.locator(f"#template-step-{steps['Send welcome email']}")
        partner = page.locator(f"#template-step-{steps['Partner review']}")
        drag(page, email, partner, above=True)
        expect(page.locator("#template-groups .alert-error")).to_contain_text(
            "it waits for “Prepare draft accounts”"
        )
        expect(page.locator(f"#group-{records.pk} .tpl-step .row-title")).to_have_text(
            ["Prepare draft accounts", "Send welcome email"]
        )
        assert names(review) == ["Partner review", "Book the meeting"]
        screenshot(page, "template_sort_refused")
    finally:
        context.close()
