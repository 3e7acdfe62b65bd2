"""Chases on the step and picking an existing document for approval, in a real browser.

A document request has chased the client twice (one delivered, one bounced): the task page
lists both with their delivery status and the next one planned. The manager then sends an
approval by searching the client's earlier uploads and picking one; a copy goes out.

Screenshots: var/screenshots/chase_*_<width>.png.
"""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.utils import timezone
from django_scopes import scopes_disabled

from portal import files
from portal.models import ApprovalVersion
from sodium import timers
from sodium.models import OutboundMessage
from tests import factories as f
from tests.browser.test_portal_journeys import (  # noqa: F401 - fixtures used by name
    approval_step,
    brokerless,
    new_page,
    no_horizontal_scroll,
    play_worker,
    request_step,
    start_task,
    world,
)
from tests.portal.portal_factories import pdf_upload

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHASE = {"enabled": True, "every_days": 2, "max_times": 3}


@pytest.mark.parametrize("width", [1280, 390])
def test_staff_see_the_chases_and_pick_an_earlier_upload_for_approval(
    live_server,
    browser,
    screenshot,
    world,  # noqa: F811 - the imported fixture
    brokerless,  # noqa: F811
    width,
):
    settings = {**request_step()["settings"], "chase": CHASE}
    request, approval = start_task(
        world,
        "Year end accounts 2026",
        [request_step(settings=settings), {**approval_step(), "settings": {"chase": CHASE}}],
    )
    t0 = timezone.now() - dt.timedelta(days=5)
    with mock.patch("django.utils.timezone.now", return_value=t0):
        play_worker(world, request)
    with scopes_disabled():
        for days in (2, 4):
            when = t0 + dt.timedelta(days=days)
            with mock.patch("django.utils.timezone.now", return_value=when):
                timers.sweep(when)
        first, second = OutboundMessage.objects.filter(
            idempotency_key__contains=":chase:"
        ).order_by("created_at", "id")
        OutboundMessage.objects.filter(pk=first.pk).update(status="delivered")
        OutboundMessage.objects.filter(pk=second.pk).update(status="bounced")
        earlier = f.TaskFactory(client=world.client, owner=world.manager, name="Accounts 2025")
        upload = files.store(
            pdf_upload("signed-engagement-letter.pdf"),
            practice_id=world.practice.pk,
            client_id=world.client.pk,
            contact=world.ann,
            task=earlier,
            title="Signed engagement letter",
        )
        files.store(
            pdf_upload("bank-statement-march.pdf"),
            practice_id=world.practice.pk,
            client_id=world.client.pk,
            contact=world.ann,
        )

    context, page = new_page(browser, width)
    page.goto(f"{live_server.url}/sign-in/")
    page.get_by_label("Email").fill(world.manager.email)
    page.get_by_label("Password").fill("pw-for-tests-1")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")

    page.goto(f"{live_server.url}/tasks/{request.task_id}/")
    chases = page.locator(f"#step-{request.pk}-request .staff-chases")
    assert "Chase 1" in chases.inner_text() and "Chase 2" in chases.inner_text()
    assert chases.locator(".chip-delivered").inner_text() == "Delivered"
    assert chases.locator(".chip-bounced").inner_text() == "Bounced"
    screenshot(page, "chase_task_page")
    assert no_horizontal_scroll(page)

    page.get_by_role("link", name="Work through the steps").click()
    panel = page.locator(f"#focus-step-{request.pk}")
    panel.locator(".staff-chases .chip-bounced").wait_for()
    screenshot(page, "chase_focus_panel")

    page.goto(f"{live_server.url}/workflows/templates/steps/{request.source_id}/edit/")
    assert page.get_by_label("Chase the client until they upload").is_checked()
    screenshot(page, "chase_step_editor")

    page.goto(f"{live_server.url}/documents/steps/{approval.pk}/approval/")
    page.get_by_label("Search the documents").fill("engagement")
    page.get_by_role("button", name="Search", exact=True).click()
    page.wait_for_url("**/approval/?q=engagement")
    assert page.locator(".pick-list li").count() == 2  # "None" and the one match
    assert no_horizontal_scroll(page)
    screenshot(page, "chase_pick_search")

    page.get_by_label("Signed engagement letter").check()
    page.get_by_label("Title").fill("Engagement letter 2026")
    page.get_by_label("Category").select_option("Engagement letter")
    page.get_by_role("button", name="Send to the client").click()
    page.get_by_text("to the client for approval").wait_for()
    with scopes_disabled():
        copy = ApprovalVersion.objects.get(approval__step=approval).document
        assert copy.pk != upload.pk and copy.sha256 == upload.sha256
    context.close()
