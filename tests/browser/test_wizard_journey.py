"""A manager builds a five-step template with the step wizard and attaches it to a task.

Signs in as the demo manager, creates "Client onboarding 2026" from the Workflows page, then
adds one step of each type through the wizard: a simple step with a two-item checklist, an
automatic email written inline (with a variable from the token picker, due two working days
after it is ready and sent five days before the task is due), a document request
with a 14-day deadline, a document approval (manual only) and a client confirmation that
chases and runs after the approval. Finally attaches the template to a demo task that has no
workflow yet and checks the task's steps, on the page and in the database.

The live server runs in this process, so the Celery publishes on_commit would make are mocked.
Screenshots: var/screenshots/wizard_*_<width>.png.
"""

from __future__ import annotations

import re
from unittest import mock

import pytest
from django_scopes import scopes_disabled
from playwright.sync_api import Page, expect

from portal.step_types import ClientStepType
from sodium import demo
from sodium.models import Client, Task
from workflows.models import (
    Mode,
    Step,
    StepDependency,
    StepGroup,
    StepType,
    TemplateStep,
    WorkflowTemplate,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEMPLATE = "Client onboarding 2026"
CHECKLIST = ["Passport or driving licence", "Proof of address"]
SUBJECT_START = "Welcome aboard, "
BODY = (
    "Dear {{ contacts.main.first_name | default: 'client' }},\n\n"
    "Thank you for choosing {{ practice.name }}. Over the next few days we will ask you for a "
    "few documents and send you our engagement letter to approve.\n\n"
    "Kind regards,\n{{ practice.name }}"
)
# (name, type label on the template page), in the order the steps are created.
STEPS = [
    ("Check ID documents", "Simple step"),
    ("Welcome email", "Send email"),
    ("Collect engagement documents", "Document request"),
    ("Engagement letter approval", "Document approval"),
    ("Confirm onboarding", "Client confirmation"),
]


@pytest.fixture
def brokerless():
    with (
        mock.patch("workflows.tasks.run_step_task.delay"),
        mock.patch("sodium.tasks.deliver_message_task.delay"),
    ):
        yield


@pytest.fixture
def demo_practice(brokerless):
    with scopes_disabled():
        return demo.build_demo(history_months=1)


# --- helpers -----------------------------------------------------------------------------------


def _stage_url(stage: str) -> re.Pattern[str]:
    return re.compile(rf"/workflows/wizard/[^/]+/{stage}/$")


def _at_stage(page: Page, stage: str, heading: str) -> None:
    """Wait for the wizard to show `stage` (its pushed URL and its heading)."""
    page.wait_for_url(_stage_url(stage))
    expect(page.locator("#wz-stage-heading")).to_have_text(heading)


def _next(page: Page, stage: str, heading: str) -> None:
    page.locator("#wizard").get_by_role("button", name=re.compile(r"^Next: ")).click()
    _at_stage(page, stage, heading)


def _start_step(page: Page, template_url: str, type_label: str, name: str) -> None:
    """From the template page: Add step on the first group, choose the type, fill the name."""
    page.goto(template_url)
    first_group = page.locator("section.tpl-group").first
    first_group.get_by_role("link", name=re.compile(r"Add step")).click()
    page.wait_for_url(re.compile(r"/workflows/groups/\d+/wizard/$"))
    expect(page.locator("#wz-stage-heading")).to_have_text("What kind of step?")
    page.locator("#wizard").get_by_role("button", name=re.compile(rf"^{type_label}")).click()
    _at_stage(page, "name", re.compile(r"^Name"))
    expect(page.locator(".wz-progress-label")).to_contain_text(type_label)
    page.get_by_label("Step name").fill(name)


def _main_contact_in_to(page: Page) -> None:
    page.get_by_role("group", name="To: Client contacts").get_by_label("Main contact").check()


def _create(page: Page, template_url: str, name: str) -> None:
    """On the review stage: create the step and land back on the template page."""
    expect(page.locator(".wz-summary")).to_contain_text(name)
    page.locator("#wizard").get_by_role("button", name="Create step").click()
    page.wait_for_url(template_url)
    expect(page.locator(".flashes")).to_contain_text(f"Added the step “{name}”")


def _shot(page: Page, screenshot, name: str) -> None:
    """Full-page screenshot from the top: scrolled, the sticky top bar lands mid-picture."""
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, name)


def _open_workflows(page: Page, width: int) -> None:
    if width < 760:  # the sidebar is folded into the burger menu
        page.locator(".nav-toggle > summary").click()
        nav = page.locator(".drawer")
    else:
        nav = page.locator("nav.sidebar")
    nav.get_by_role("link", name="Workflows", exact=True).click()
    page.wait_for_url("**/workflows/templates/")


# --- the journey -------------------------------------------------------------------------------


@pytest.mark.parametrize("width", [1280, 390])
def test_manager_builds_a_template_with_the_wizard_and_attaches_it(
    live_server, browser, screenshot, demo_practice, width
):
    with scopes_disabled():
        preview_client = Client.objects.filter(practice=demo_practice).order_by("name").first()
        task = (
            Task.objects.filter(practice=demo_practice, status=Task.Status.IN_PROGRESS)
            .exclude(pk__in=StepGroup.objects.values("task_id"))
            .order_by("pk")
            .first()
        )
    assert task is not None, "the demo has no in-progress task without a workflow"

    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        # 1. Sign in, Workflows → New template.
        page.goto(f"{live_server.url}/sign-in/")
        page.get_by_label("Email").fill(demo.DEMO_MANAGER_EMAIL)
        page.get_by_label("Password").fill(demo.DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{live_server.url}/")

        _open_workflows(page, width)
        page.get_by_role("link", name="New template").first.click()
        page.wait_for_url("**/workflows/templates/new/")
        page.get_by_label("Name").fill(TEMPLATE)
        page.get_by_role("button", name="Create template").click()
        page.wait_for_url(re.compile(r"/workflows/templates/\d+/$"))
        template_url = page.url
        expect(page.get_by_role("heading", level=1)).to_have_text(TEMPLATE)
        expect(page.get_by_text("No steps in this group yet.")).to_be_visible()
        _shot(page, screenshot, "wizard_template_created")

        # 2a. A simple step with a checklist of two items. Screenshot the type chooser.
        page.locator("section.tpl-group").first.get_by_role(
            "link", name=re.compile(r"Add step")
        ).click()
        page.wait_for_url(re.compile(r"/workflows/groups/\d+/wizard/$"))
        expect(page.locator(".wz-type")).to_have_count(5)
        # The first stage puts the focus on its heading, and the heading shows its ring.
        heading = page.locator("#wz-stage-heading")
        expect(heading).to_be_focused()
        assert heading.evaluate("el => getComputedStyle(el).outlineStyle") == "solid"
        _shot(page, screenshot, "wizard_type_chooser")
        _start_step(page, template_url, "Simple step", "Check ID documents")
        _next(page, "behaviour", "Behaviour")
        expect(page.locator("#wizard input[name=mode]")).to_have_count(0)  # always manual
        page.get_by_label("Items to check off").fill("\n".join(CHECKLIST))
        _next(page, "assignment", "Assignment")
        _next(page, "review", "Review")
        for item in CHECKLIST:
            expect(page.locator(".wz-summary")).to_contain_text(item)
        _create(page, template_url, "Check ID documents")

        # 2b. An automatic email written here, with a variable from the token picker.
        _start_step(page, template_url, "Send email", "Welcome email")
        _next(page, "content", "Content")
        expect(page.get_by_role("radio", name=re.compile(r"^Written here"))).to_be_checked()
        subject = page.get_by_label("Subject", exact=True)
        subject.fill(SUBJECT_START)
        inline = page.locator(".wz-when-inline")
        inline.locator(".token-fold > summary").click()  # "Insert a variable"
        inline.locator('button[data-insert-token="{{ client.name }}"]').click()
        expect(subject).to_have_value(SUBJECT_START + "{{ client.name }}")
        page.get_by_label("Body", exact=True).fill(BODY)
        page.get_by_label("Preview for").select_option(label=preview_client.name)
        preview = page.locator("#wizard-preview")
        expect(preview).to_contain_text(f"For {preview_client.name}")
        expect(preview.locator(".wz-email-subject")).to_contain_text(
            SUBJECT_START + preview_client.name
        )
        expect(preview).not_to_contain_text("{{")
        _shot(page, screenshot, "wizard_content_preview")
        _next(page, "recipients", "Recipients")
        _main_contact_in_to(page)
        _next(page, "behaviour", "Behaviour")
        page.get_by_role("radio", name=re.compile(r"^Automatic")).check()
        _next(page, "assignment", "Assignment")
        # Timing: due 2 working days after it is ready, out 5 days before the task is due.
        wizard = page.locator("#wizard")
        wizard.locator("select[name=due_rule]").select_option("after_ready")
        wizard.locator("input[name=due_days]").fill("2")
        wizard.locator("select[name=send_rule]").select_option("before_due")
        wizard.locator("input[name=send_days]").fill("5")
        _shot(page, screenshot, "wizard_timing")
        _next(page, "review", "Review")
        expect(page.locator(".wz-summary")).to_contain_text("Main contact")
        expect(page.locator(".wz-summary")).to_contain_text(
            "Goes out 5 days before the task is due."
        )
        _create(page, template_url, "Welcome email")

        # 2c. A document request with a title and a 14-day deadline.
        _start_step(page, template_url, "Document request", "Collect engagement documents")
        page.get_by_label("Request title").fill("Signed engagement documents")
        page.get_by_label("What the client should send").fill(
            "Your signed engagement letter and anti-money-laundering forms."
        )
        _next(page, "content", "Content")
        expect(page.get_by_role("radio", name=re.compile(r"^The built-in email"))).to_be_checked()
        _next(page, "recipients", "Recipients")
        _main_contact_in_to(page)
        _next(page, "behaviour", "Behaviour")
        page.get_by_label("Client's deadline, in days").fill("14")
        _next(page, "assignment", "Assignment")
        _next(page, "review", "Review")
        _create(page, template_url, "Collect engagement documents")

        # 2d. A document approval: manual only. No automatic option is offered, and a forged
        # one is refused on the behaviour stage.
        _start_step(page, template_url, "Document approval", "Engagement letter approval")
        _next(page, "content", "Content")
        _next(page, "recipients", "Recipients")
        _main_contact_in_to(page)
        _next(page, "behaviour", "Behaviour")
        expect(page.locator("#wizard input[name=mode]")).to_have_count(0)
        expect(page.locator(".wz-note")).to_contain_text("Always manual.")
        page.locator("#wizard form.wz-form").evaluate(
            """form => {
                const forged = document.createElement("input");
                forged.type = "hidden"; forged.name = "mode"; forged.value = "automatic";
                form.appendChild(forged);
            }"""
        )
        page.locator("#wizard").get_by_role("button", name=re.compile(r"^Next: ")).click()
        expect(page.locator("#wizard")).to_contain_text("Document approval steps are always manual")
        expect(page.locator("#wz-stage-heading")).to_have_text("Behaviour")
        expect(page.locator("#wizard input[name=mode]")).to_have_count(0)
        _next(page, "assignment", "Assignment")
        _next(page, "review", "Review")
        _create(page, template_url, "Engagement letter approval")

        # 2e. A client confirmation that runs after the approval and chases twice, 3 days apart.
        _start_step(page, template_url, "Client confirmation", "Confirm onboarding")
        _next(page, "content", "Content")
        _next(page, "recipients", "Recipients")
        _main_contact_in_to(page)
        _next(page, "behaviour", "Behaviour")
        page.get_by_label("What the client confirms").fill(
            "Please confirm that the details in your engagement letter are correct."
        )
        page.get_by_label("Button text").fill("Confirm my details")
        page.get_by_label("Thank-you message").fill("Thank you, welcome on board.")
        page.get_by_label("Chase the client until they confirm").check()
        page.get_by_label("Every (days)").fill("3")
        page.get_by_label("At most (times)").fill("2")
        page.get_by_role("group", name="Runs after").get_by_label(
            "Engagement letter approval"
        ).check()
        _shot(page, screenshot, "wizard_confirmation_behaviour")
        _next(page, "assignment", "Assignment")
        _next(page, "review", "Review")
        summary = page.locator(".wz-summary")
        expect(summary).to_contain_text("Engagement letter approval")
        expect(summary).to_contain_text("Confirm my details")
        _shot(page, screenshot, "wizard_review")
        _create(page, template_url, "Confirm onboarding")

        # 3. The template page lists the five steps in order, with their types.
        rows = page.locator("ol.tpl-steps > li")
        expect(rows).to_have_count(5)
        expect(rows.locator(".tpl-step-title")).to_have_text([name for name, _ in STEPS])
        expect(rows.locator(".tpl-step-chips .tag:first-child")).to_have_text(
            [label for _, label in STEPS]
        )
        expect(rows.nth(0)).to_contain_text("2 checklist items")
        expect(rows.nth(1)).to_contain_text("Automatic")
        expect(rows.nth(3)).to_contain_text("Manual")
        expect(rows.nth(4)).to_contain_text("After: Engagement letter approval")
        _shot(page, screenshot, "wizard_template_steps")

        with scopes_disabled():
            template = WorkflowTemplate.objects.get(practice=demo_practice, name=TEMPLATE)
            made = list(
                TemplateStep.objects.filter(group__template=template).order_by("position", "id")
            )
            assert [(s.name, s.type) for s in made] == [
                ("Check ID documents", StepType.SIMPLE),
                ("Welcome email", StepType.EMAIL),
                ("Collect engagement documents", ClientStepType.DOCUMENT_REQUEST),
                ("Engagement letter approval", ClientStepType.DOCUMENT_APPROVAL),
                ("Confirm onboarding", ClientStepType.CLIENT_CONFIRMATION),
            ]
            email, request, approval, confirmation = made[1:]
            assert email.mode == Mode.AUTOMATIC
            assert email.subject == SUBJECT_START + "{{ client.name }}"
            assert email.to_recipients == ["contact:main"]
            assert (email.due_rule, email.due_days) == ("after_ready", 2)
            assert (email.send_rule, email.send_days) == ("before_due", 5)
            assert request.settings["deadline_days"] == 14
            assert request.settings["title"] == "Signed engagement documents"
            assert approval.mode == Mode.MANUAL
            chase = confirmation.settings["chase"]
            assert (chase["enabled"], chase["every_days"], chase["max_times"]) == (True, 3, 2)
            assert confirmation.settings["button_text"] == "Confirm my details"

        # 4. Attach the template to a demo task that has no workflow yet.
        page.goto(f"{live_server.url}/tasks/{task.pk}/")
        card = page.locator(f"#task-{task.pk}-workflow")
        expect(card.locator(".empty")).to_contain_text("No workflow yet")
        card.locator("#attach-template").select_option(label=TEMPLATE)
        card.get_by_role("button", name="Attach").click()
        page.wait_for_url(f"{live_server.url}/tasks/{task.pk}/")
        expect(page.get_by_text(f"Attached {TEMPLATE}: 5 steps.")).to_be_visible()
        steps = card.locator("li.step")
        expect(steps).to_have_count(5)
        expect(steps.locator(".row-title")).to_have_text([name for name, _ in STEPS])
        expect(steps.nth(4).locator(".step-end .chip").first).to_have_text("Blocked")
        for i in range(4):
            expect(steps.nth(i).locator(".step-end .chip").first).to_have_text("Ready")
        expect(steps.nth(0)).to_contain_text("checklist 0/2")
        _shot(page, screenshot, "wizard_task_attached")

        with scopes_disabled():
            by_name = {s.name: s for s in Step.objects.filter(task=task)}
            assert len(by_name) == 5
            assert set(by_name) == {name for name, _ in STEPS}
            confirm = by_name["Confirm onboarding"]
            assert confirm.status == Step.Status.BLOCKED
            assert list(
                StepDependency.objects.filter(step=confirm).values_list("depends_on", flat=True)
            ) == [by_name["Engagement letter approval"].pk]
            assert by_name["Check ID documents"].checklist.count() == 2
    finally:
        context.close()
