"""A staff member finishes a task's steps and completes it; a planned task says why its
automatic steps have not run.

Marks the last step done on the task page (its unticked checklist asks first: no, then yes),
completes the task from the call to action, completes another from the focus panel over the
task list, reads a planned task's page and a task whose document request was skipped.
Screenshots: var/screenshots/task_*_<width>.png.
"""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_scopes import scopes_disabled

from portal import engine as portal_engine
from portal.models import DocumentRequest
from sodium.models import Task
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
        f.ContactFactory(client=acme, first_name="Ann", email="ann@acme.example")
        template = building.create_template(practice=practice, actor=sam, name="Year end")
        group = template.groups.get()
        first = building.add_step(
            group, actor=sam, name="Prepare draft accounts", type="simple", mode="manual"
        )
        building.add_step(
            group,
            actor=sam,
            name="Review with the partner",
            type="simple",
            mode="manual",
            depends_on=[first],
            checklist=["Partner read the notes", "Tax computation agreed"],
        )
        welcome = building.create_template(practice=practice, actor=sam, name="Onboarding")
        building.add_step(
            welcome.groups.get(),
            actor=sam,
            name="Send the welcome email",
            type="email",
            mode="automatic",
            subject="Welcome, {{ client.name }}",
            body="Dear {{ contacts.main.first_name }},\n\nWelcome.",
            to_recipients=["contact:main"],
        )
        tasks = {}
        for name in ("Year-end accounts 2025", "VAT return Q3"):
            task = f.TaskFactory(client=acme, owner=sam, name=name, status="in_progress")
            steps = attach.attach_template(task, template, actor=sam)
            Step.objects.filter(pk=steps[0].pk).update(status="done")
            Step.objects.filter(pk=steps[1].pk).update(status="ready")
            tasks[name] = (task, steps)
        planned = f.TaskFactory(
            client=acme,
            owner=sam,
            name="Onboarding Acme",
            status="planned",
            start_date=dt.date.today() + dt.timedelta(days=20),
        )
        attach.attach_template(planned, welcome, actor=sam)
        # A document request the client answered, then skipped by staff.
        records = building.create_template(practice=practice, actor=sam, name="Records")
        building.add_step(
            records.groups.get(),
            actor=sam,
            name="Request bank statements",
            type="document_request",
            mode="manual",
            to_recipients=["contact:main"],
            settings={"title": "Bank statements 2025", "deadline_days": 14},
        )
        skipped = f.TaskFactory(client=acme, owner=sam, name="Bookkeeping", status="in_progress")
        (request_step,) = attach.attach_template(skipped, records, actor=sam)
        wf_engine.send_step_message(
            request_step,
            Draft(to=["ann@acme.example"], subject="Bank statements", body="Please."),
            actor=sam,
        )
        portal_engine.submit(
            DocumentRequest.objects.get(step=request_step),
            contact=acme.contacts.get(),
            uploads=[SimpleUploadedFile("bank.pdf", PDF_BYTES, "application/pdf")],
            message="Here they are.",
        )
        wf_engine.skip_step(request_step, actor=sam)
    return {"tasks": tasks, "planned": planned, "skipped": skipped}


def sign_in(browser, live_server, width):
    # Reduced motion: the panel shows at once, so its screenshots are not mid-slide.
    context = browser.new_context(viewport={"width": width, "height": 900}, reduced_motion="reduce")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_server.url}/sign-in/")
    page.get_by_label("Email").fill("sam@hartleyfinch.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")
    return context, page, errors


def status_of(task) -> str:
    with scopes_disabled():
        return Task.objects.get(pk=task.pk).status


def no_horizontal_scroll(page) -> bool:
    return page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


@pytest.mark.parametrize("width", [1280, 390])
def test_finishing_the_steps_offers_completing_the_task(
    live_server, browser, screenshot, world, width
):
    context, page, errors = sign_in(browser, live_server, width)
    task, steps = world["tasks"]["Year-end accounts 2025"]
    review = steps[1]
    page.goto(f"{live_server.url}/tasks/{task.pk}/")
    step_row = page.locator(f"#step-{review.pk}")

    # Its checklist is not ticked: the button asks. "Cancel" leaves the step as it is…
    questions: list[str] = []

    def answer(accept: bool):
        def handler(dialog) -> None:
            questions.append(dialog.message)
            dialog.accept() if accept else dialog.dismiss()

        return handler

    page.once("dialog", answer(False))
    step_row.get_by_role("button", name="Mark done").click()
    assert questions == [
        "“Review with the partner” has 2 unticked checklist items. Mark it done anyway?"
    ]
    with scopes_disabled():
        assert Step.objects.get(pk=review.pk).status == "ready"
    # … "OK" marks it done.
    page.once("dialog", answer(True))
    step_row.get_by_role("button", name="Mark done").click()
    cta = page.locator(f"#task-{task.pk}-complete")
    cta.wait_for()
    assert "All steps are done." in cta.inner_text()
    assert no_horizontal_scroll(page)
    screenshot(page, "task_all_steps_done")

    cta.get_by_role("button", name="Complete task").click()
    page.get_by_text("Completed “Year-end accounts 2025”").wait_for()
    assert status_of(task) == "done"
    assert page.locator(f"#task-{task.pk}-complete").count() == 0
    screenshot(page, "task_completed")

    # The other task, from the focus panel over the task list.
    other, other_steps = world["tasks"]["VAT return Q3"]
    with scopes_disabled():
        Step.objects.filter(pk=other_steps[1].pk).update(status="done")
    page.goto(f"{live_server.url}/tasks/")
    row = page.locator(f"#task-{other.pk}-progress")
    assert "Ready to complete" in row.inner_text()
    screenshot(page, "task_list_ready_to_complete")
    page.get_by_role("link", name=f"Steps of {other.name}").click()
    panel = page.locator("#focus-panel.is-open")
    panel.wait_for()
    panel.locator("#focus-complete").wait_for()
    screenshot(page, "task_focus_all_done")
    panel.get_by_role("button", name="Complete task").click()
    page.get_by_text("Completed “VAT return Q3”").wait_for()
    assert status_of(other) == "done"
    assert errors == []
    context.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_a_planned_task_says_when_its_automatic_steps_run(
    live_server, browser, screenshot, world, width
):
    context, page, errors = sign_in(browser, live_server, width)
    planned = world["planned"]
    page.goto(f"{live_server.url}/tasks/{planned.pk}/")
    start = planned.start_date
    says = f"Runs when the task starts on {start:%a} {start.day} {start:%b %Y}."
    page.get_by_text(says).wait_for()
    assert no_horizontal_scroll(page)
    screenshot(page, "task_planned")
    page.get_by_role("link", name="Work through the steps").click()
    panel = page.locator("#focus-panel.is-open")
    panel.wait_for()
    assert says in panel.inner_text()
    screenshot(page, "task_planned_focus")
    assert errors == []
    context.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_a_skipped_document_request_shows_no_stale_sub_status(
    live_server, browser, screenshot, world, width
):
    context, page, errors = sign_in(browser, live_server, width)
    page.goto(f"{live_server.url}/tasks/{world['skipped'].pk}/")
    documents = page.locator(f"#task-{world['skipped'].pk}-documents")
    assert "No longer needed" in documents.inner_text()
    main = page.locator("main").inner_text()
    assert "Skipped" in main
    assert "Awaiting response" not in main and "Waiting for the client" not in main
    screenshot(page, "task_skipped_request")
    assert errors == []
    context.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_without_a_script_the_server_asks_before_marking_unticked_steps_done(
    live_server, browser, screenshot, world, width
):
    context = browser.new_context(
        viewport={"width": width, "height": 900}, java_script_enabled=False
    )
    page = context.new_page()
    page.goto(f"{live_server.url}/sign-in/")
    page.get_by_label("Email").fill("sam@hartleyfinch.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")
    task, steps = world["tasks"]["Year-end accounts 2025"]
    page.goto(f"{live_server.url}/tasks/{task.pk}/")
    page.locator(f"#step-{steps[1].pk}").get_by_role("button", name="Mark done").click()
    page.get_by_role("heading", name="Mark “Review with the partner” done?").wait_for()
    assert "Tax computation agreed" in page.locator("main").inner_text()
    with scopes_disabled():
        assert Step.objects.get(pk=steps[1].pk).status == "ready"
    assert no_horizontal_scroll(page)
    screenshot(page, "task_confirm_unticked")
    page.get_by_role("button", name="Mark done anyway").click()
    page.get_by_text("Marked “Review with the partner” done.").wait_for()
    with scopes_disabled():
        assert Step.objects.get(pk=steps[1].pk).status == "done"
    context.close()
