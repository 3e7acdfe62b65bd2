"""Demo data for the portal: a sign-off workflow with all three client-facing steps, running
on a few demo tasks, so a newcomer can read the emails under Messages and follow their links."""

from __future__ import annotations

from django_scopes import scopes_disabled

from sodium.models import Practice, Task, User
from workflows import attach, building, engine
from workflows.models import Step


def build(practice: Practice, *, owner: User, manager: User) -> None:
    template = building.create_template(
        practice=practice,
        actor=manager,
        name="Accounts sign-off",
        description="Collect the last documents, get the draft approved and the filing "
        "confirmed, all through the client portal.",
        first_group="Sign-off",
    )
    group = template.groups.get()
    request = building.add_step(
        group,
        actor=manager,
        name="Collect the bank statements",
        type="document_request",
        mode="automatic",
        to_recipients=["contact:main"],
        settings={
            "title": "Bank statements for the year",
            "request_description": "All business bank accounts, every month of the "
            "financial year, as PDF or CSV.",
            "deadline_days": 14,
        },
    )
    draft = building.add_step(
        group,
        actor=manager,
        name="Prepare draft accounts",
        type="simple",
        mode="manual",
        depends_on=[request],
        checklist=["Bank reconciliation", "Accruals"],
    )
    approval = building.add_step(
        group,
        actor=manager,
        name="Send draft accounts for approval",
        type="document_approval",
        mode="manual",
        to_recipients=["contact:main"],
        settings={"category": "Accounts"},
        depends_on=[draft],
    )
    building.add_step(
        group,
        actor=manager,
        name="Confirm we may file",
        type="client_confirmation",
        mode="automatic",
        to_recipients=["contact:main"],
        depends_on=[approval],
        settings={
            "message": "Please confirm you are happy for us to file your accounts at "
            "Companies House.",
            "button_text": "Yes, please file them",
            "thank_you": "Thank you. We will file your accounts and let you know.",
            "notify_assignee": True,
            "chase": {"enabled": True, "every_days": 3, "max_times": 3},
        },
    )
    with scopes_disabled():
        tasks = list(
            Task.objects.filter(
                practice=practice, status="in_progress", service__name="Year-end accounts"
            ).exclude(step_groups__isnull=False)[:4]
        ) or list(Task.objects.filter(practice=practice, status="in_progress")[:4])
    if not tasks:
        return
    attach.attach_template_to_tasks(tasks, template, actor=manager)
    with scopes_disabled():
        ids = list(
            Step.objects.filter(practice=practice, source=request, status="ready").values_list(
                "pk", flat=True
            )
        )
    for step_id in ids:  # the worker would do this within seconds; done now for the demo
        engine.run_step(step_id)
