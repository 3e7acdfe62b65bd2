"""A staff member works through a task's steps from the focus panel, without leaving the list.

Opens the task list, opens a task's focus panel, ticks a checklist item and completes the
simple step (the row's progress updates in place), edits and sends the manual email from the
composer, sends a document for approval, accepts the client's submission, and closes the
panel with Esc. The Celery publishes that on_commit would make are replaced by mocks.

Screenshots: var/screenshots/focus_*_<width>.png.
"""

from __future__ import annotations

from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_scopes import scopes_disabled

from portal import engine as portal_engine
from portal.models import ApprovalVersion, DocumentRequest, Submission
from sodium.models import OutboundMessage
from sodium.roles import Role
from tests import factories as f
from workflows import attach, building
from workflows import engine as wf_engine
from workflows.handlers import Draft
from workflows.models import Step

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-for-tests-1"
PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def brokerless():
    with (
        mock.patch("workflows.tasks.run_step_task.delay"),
        mock.patch("sodium.tasks.deliver_message_task.delay"),
    ):
        yield


@pytest.fixture
def world(brokerless):
    with scopes_disabled():
        practice = f.PracticeFactory(name="Hartley & Finch", slug="hartley-finch")
        sam = f.MembershipFactory(
            practice=practice,
            role=Role.STAFF,
            user=f.UserFactory(full_name="Sam Carter", email="sam@hartleyfinch.example"),
        ).user
        acme = f.ClientFactory(practice=practice, name="Acme Trading Ltd")
        ann = f.ContactFactory(
            client=acme, first_name="Ann", last_name="Baker", email="ann@acme.example"
        )
        template = building.create_template(
            practice=practice, actor=sam, name="Year end", first_group="Preparation"
        )
        group = template.groups.get()
        prepare = building.add_step(
            group,
            actor=sam,
            name="Prepare draft accounts",
            type="simple",
            mode="manual",
            checklist=["Bank reconciliation", "Accruals and prepayments"],
        )
        building.add_step(
            group,
            actor=sam,
            name="Send the engagement letter",
            type="email",
            mode="manual",
            subject="Engagement letter for {{ client.name }}",
            body="Dear {{ contacts.main.first_name }},\n\nPlease find our engagement letter "
            "attached.\n\nKind regards,\n{{ practice.name }}",
            to_recipients=["contact:main"],
        )
        building.add_step(
            group,
            actor=sam,
            name="Request bank statements",
            type="document_request",
            mode="manual",
            to_recipients=["contact:main"],
            settings={"title": "Bank statements 2025", "deadline_days": 14},
        )
        filing = building.add_group(template, actor=sam, name="Sign-off")
        building.add_step(
            filing,
            actor=sam,
            name="Approve the draft accounts",
            type="document_approval",
            mode="manual",
            to_recipients=["contact:main"],
        )
        building.add_step(
            group,
            actor=sam,
            name="Review with the partner",
            type="simple",
            mode="manual",
            depends_on=[prepare],
        )
        task = f.TaskFactory(client=acme, owner=sam, name="Year-end accounts 2025")
        steps = {s.name: s for s in attach.attach_template(task, template, actor=sam)}
        # The client has already answered the document request through the portal.
        request_step = steps["Request bank statements"]
        wf_engine.send_step_message(
            request_step,
            Draft(to=[ann.email], subject="Bank statements", body="Please upload them."),
            actor=sam,
        )
        portal_engine.submit(
            DocumentRequest.objects.get(step=request_step),
            contact=ann,
            uploads=[SimpleUploadedFile("statements-2025.pdf", PDF_BYTES, "application/pdf")],
            message="All twelve months are in one file.",
        )
        for name in ("VAT return Q3", "Payroll October"):
            f.TaskFactory(client=f.ClientFactory(practice=practice), owner=sam, name=name)
    return {"sam": sam, "task": task, "steps": steps}


def no_horizontal_scroll(page) -> bool:
    return page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


def flash_in_view(page, panel) -> bool:
    """Whether the panel's message is on screen and not under its sticky head, once the
    panel has scrolled to the step acted on (the step far down the panel)."""
    page.wait_for_function(
        "() => document.activeElement && document.activeElement.closest('.focus-step')"
    )
    return panel.locator(".focus-flash").evaluate(
        "el => { const r = el.getBoundingClientRect();"
        " const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);"
        " return r.top >= 0 && r.bottom <= innerHeight && el.contains(hit); }"
    )


def refreshed(step: Step) -> Step:
    with scopes_disabled():
        return Step.objects.get(pk=step.pk)


@pytest.mark.parametrize("width", [1280, 390])
def test_staff_work_through_a_task_from_the_focus_panel(
    live_server, browser, screenshot, world, width
):
    task, steps = world["task"], world["steps"]
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_server.url}/sign-in/")
    page.get_by_label("Email").fill("sam@hartleyfinch.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")

    list_url = f"{live_server.url}/tasks/"
    page.goto(list_url)
    row_progress = page.locator(f"#task-{task.pk}-progress")
    assert "0/5 done" in row_progress.inner_text()
    screenshot(page, "focus_task_list")

    # Open the panel from the row.
    page.get_by_role("link", name=f"Steps of {task.name}").click()
    panel = page.locator("#focus-panel.is-open")
    panel.wait_for()
    assert panel.get_by_role("heading", name=task.name).is_visible()
    assert panel.locator("#focus-title").evaluate("el => el === document.activeElement")
    screenshot(page, "focus_panel_open")
    assert no_horizontal_scroll(page)
    if width >= 1100:
        # The list beside the panel keeps its columns: the owner shows, titles take ≤ 2 lines.
        assert page.get_by_role("columnheader", name="Owner").is_visible()
        title = page.locator("tr", has_text=task.name).locator(".row-title")
        line = title.evaluate("el => parseFloat(getComputedStyle(el).lineHeight)")
        assert title.bounding_box()["height"] <= 2 * line + 1

    # Keyboard: j moves to the first step, ↓ to the next.
    page.keyboard.press("j")
    prepare = steps["Prepare draft accounts"]
    assert page.evaluate("document.activeElement.id") == f"focus-step-{prepare.pk}"
    page.keyboard.press("ArrowDown")
    letter = steps["Send the engagement letter"]
    assert page.evaluate("document.activeElement.id") == f"focus-step-{letter.pk}"

    # Tick a checklist item in place: only that step is swapped.
    step_box = panel.locator(f"#focus-step-{prepare.pk}")
    step_box.get_by_role("checkbox", name="Bank reconciliation").click()
    step_box.locator('[aria-checked="true"]').wait_for()
    assert "checklist 1/2" in panel.locator(f"#focus-step-{prepare.pk}").inner_text()

    # Complete the simple step: one item is still unticked, so the button asks first (say
    # yes); the panel re-renders, and the row's progress too.
    asked: list[str] = []

    def accept(dialog) -> None:
        asked.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    panel.locator(f"#focus-step-{prepare.pk}").get_by_role("button", name="Mark done").click()
    panel.get_by_text("Marked “Prepare draft accounts” done.").wait_for()
    assert asked == ["“Prepare draft accounts” has 1 unticked checklist item. Mark it done anyway?"]
    assert "1/5 done" in row_progress.inner_text()
    assert refreshed(prepare).status == "done"
    assert refreshed(steps["Review with the partner"]).status == "ready"
    screenshot(page, "focus_step_done")

    # The composer opens in the panel, pre-filled; edit, preview, send.
    panel.locator(f"#focus-step-{letter.pk}").get_by_role("link", name="Write the email").click()
    composer = page.locator("#focus-panel.is-open .composer")
    composer.wait_for()
    subject = composer.get_by_label("Subject")
    assert subject.input_value() == "Engagement letter for Acme Trading Ltd"
    assert composer.get_by_label("To").input_value() == "ann@acme.example"
    subject.fill("Your engagement letter for 2025")
    body = composer.get_by_label("Body")
    body.fill(body.input_value().replace("Dear Ann,", "Dear Ann and Tom,"))
    composer.get_by_role("button", name="Preview").click()
    frame = composer.frame_locator("iframe.preview-frame")
    frame.get_by_text("Dear Ann and Tom,").wait_for()
    composer.locator("#composer-preview").scroll_into_view_if_needed()
    # Full-page shots leave the (out-of-process, sandboxed) frame blank: shoot it alone too.
    shot = screenshot(page, "focus_composer_preview")
    composer.locator("iframe.preview-frame").screenshot(
        path=str(shot.with_name(f"focus_composer_preview_frame_{width}.png"))
    )
    composer.get_by_role("button", name="Send").click()
    panel.get_by_text("Sent “Send the engagement letter” to ann@acme.example.").wait_for()
    assert "2/5 done" in row_progress.inner_text()
    with scopes_disabled():
        email = OutboundMessage.objects.get(source_id=letter.pk)
        assert email.subject == "Your engagement letter for 2025"
        assert email.body_text.startswith("Dear Ann and Tom,")

    # Send a document for approval from the inline form.
    approval = steps["Approve the draft accounts"]
    approval_box = panel.locator(f"#focus-step-{approval.pk}")
    approval_box.locator("summary", has_text="Send for approval").click()
    approval_box.get_by_label("Upload a file").set_input_files(
        {"name": "draft-accounts-2025.pdf", "mimeType": "application/pdf", "buffer": PDF_BYTES}
    )
    approval_box.get_by_label("Title").fill("Draft accounts 2025")
    approval_box.get_by_label("Category").select_option("Accounts")
    approval_box.scroll_into_view_if_needed()
    screenshot(page, "focus_approval_form")
    approval_box.get_by_role("button", name="Send to the client").click()
    panel.get_by_text(
        "Sent “Draft accounts 2025” (version 1) to the client for approval."
    ).wait_for()
    assert flash_in_view(page, panel)
    step = refreshed(approval)
    assert (step.status, step.sub_status) == ("in_progress", "awaiting_response")
    with scopes_disabled():
        version = ApprovalVersion.objects.get(approval__step=approval)
        assert version.document.original_name == "draft-accounts-2025.pdf"

    # Accept the client's submission.
    request_step = steps["Request bank statements"]
    review = panel.locator(f"#focus-step-{request_step.pk} .focus-review")
    assert "All twelve months are in one file." in review.inner_text()
    assert "statements-2025.pdf" in review.inner_text()
    review.scroll_into_view_if_needed()
    screenshot(page, "focus_review")
    review.get_by_role("button", name="Accept").click()
    panel.get_by_text("Accepted the documents for “Request bank statements”.").wait_for()
    assert flash_in_view(page, panel)
    assert "3/5 done" in row_progress.inner_text()
    step = refreshed(request_step)
    assert (step.status, step.sub_status) == ("done", "accepted")
    with scopes_disabled():
        assert Submission.objects.get().status == "accepted"
    screenshot(page, "focus_after_actions")

    # Esc closes the panel and gives the focus back to the row's button; still on the list.
    panel.locator("#focus-title").focus()
    page.keyboard.press("Escape")
    page.locator("#focus-panel.is-open").wait_for(state="detached")
    assert page.evaluate("document.activeElement.textContent").startswith("Steps")
    assert page.url == list_url
    assert no_horizontal_scroll(page)
    screenshot(page, "focus_task_list_after")
    assert errors == []
    context.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_my_steps_opens_the_focus_panel(live_server, browser, screenshot, world, width):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server.url}/sign-in/")
    page.get_by_label("Email").fill("sam@hartleyfinch.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/workflows/my-steps/")
    table = page.locator("#my-steps-table")
    assert "Prepare draft accounts" in table.inner_text()
    screenshot(page, "focus_my_steps")
    assert no_horizontal_scroll(page)
    prepare = world["steps"]["Prepare draft accounts"]
    table.locator("tr", has_text="Prepare draft accounts").get_by_role(
        "link", name="Year-end accounts 2025"
    ).click()
    panel = page.locator("#focus-panel.is-open")
    panel.wait_for()
    page.once("dialog", lambda dialog: dialog.accept())  # its checklist is not ticked
    panel.locator(f"#focus-step-{prepare.pk}").get_by_role("button", name="Mark done").click()
    panel.get_by_text("Marked “Prepare draft accounts” done.").wait_for()
    # My steps refreshed itself: the finished step left the list. (A function, not a string
    # expression: Playwright evaluates those with eval, which the page's CSP refuses.)
    page.wait_for_function(
        "() => !document.querySelector('#my-steps-table').innerText"
        ".includes('Prepare draft accounts')"
    )
    screenshot(page, "focus_my_steps_panel")
    context.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_managers_overview(live_server, browser, screenshot, world, width):
    import datetime as dt

    from django.utils import timezone

    with scopes_disabled():
        practice = world["task"].practice
        f.MembershipFactory(
            practice=practice,
            role=Role.MANAGER,
            user=f.UserFactory(full_name="Maya Patel", email="maya@hartleyfinch.example"),
        )
        steps = world["steps"]
        Step.objects.filter(pk=steps["Prepare draft accounts"].pk).update(
            deadline=timezone.localdate() - dt.timedelta(days=4)
        )
        Step.objects.filter(pk=steps["Send the engagement letter"].pk).update(
            status="in_progress",
            sub_status="awaiting_response",
            started_at=timezone.now() - dt.timedelta(days=6),
            chase_count=2,
        )
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server.url}/sign-in/")
    page.get_by_label("Email").fill("maya@hartleyfinch.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/workflows/overview/")
    overdue = page.locator("#overview-overdue")
    assert "Prepare draft accounts" in overdue.inner_text()
    assert "4 days late" in overdue.inner_text()
    assert "Send the engagement letter" in page.locator("#overview-waiting").inner_text()
    screenshot(page, "focus_overview")
    assert no_horizontal_scroll(page)
    context.close()
