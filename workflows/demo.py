"""Demo workflows for `manage.py seed_demo`: templates, content blocks, and tasks running them."""

from __future__ import annotations

from django_scopes import scopes_disabled

from sodium import demo_recurring
from sodium.models import Practice, Recurrence, Task, User
from sodium.services.recurrences import update_recurrence
from workflows import attach, building, engine
from workflows.models import Step

RECORDS_REQUEST = (
    "Dear {{ contacts.main.first_name | default: 'client' }},\n\n"
    "It is time to prepare {{ task.name }} for {{ client.name }}. Please send us your records "
    "for the year ending {{ client.next_year_end | default: 'this year' }}: bank statements, "
    "sales and purchase invoices, and any loan agreements.\n\n"
    "You can upload them securely here: {{ portal_link }}\n\n"
    "Kind regards,\n{{ task.owner.name | default: practice.sender_name }}\n{{ practice.name }}"
)


def build(practice: Practice, *, owner: User, manager: User) -> None:
    """Create two templates and attach them to the demo's year-end and VAT tasks."""
    block = building.save_content_block(
        practice=practice,
        actor=owner,
        name="Year-end records request",
        subject="Your records for {{ task.name }}",
        body=RECORDS_REQUEST,
    )
    year_end = building.create_template(
        practice=practice,
        actor=manager,
        name="Year-end accounts",
        description="From records request to filing at Companies House.",
        first_group="Preparation",
    )
    prep = year_end.groups.get()
    request = building.add_step(
        prep,
        actor=manager,
        name="Ask the client for their records",
        type="email",
        mode="automatic",
        content_block=block,
        to_recipients=["contact:main"],
        cc_recipients=["member:client_manager"],
        assignment_rule="task_owner",
    )
    draft = building.add_step(
        prep,
        actor=manager,
        name="Prepare draft accounts",
        type="simple",
        mode="manual",
        assignment_rule="task_owner",
        due_rule="after_ready",
        due_days=10,
        depends_on=[request],
        checklist=[
            "Bank reconciliation",
            "Accruals and prepayments",
            "Fixed asset register",
            "Director's loan account",
        ],
    )
    building.add_step(
        prep,
        actor=manager,
        name="Ask the partner to review",
        type="email",
        mode="manual",
        subject="Review needed: {{ client.name }} {{ task.name }}",
        body="Hi {{ contacts.main.first_name | default: 'there' }},\n\nThe draft accounts for "
        "{{ client.name }} are ready for your review.\n\nThanks,\n{{ assignee.name }}",
        to_recipients=["member:client_partner"],
        assignment_rule="client_manager",
        depends_on=[draft],
    )
    filing = building.add_group(year_end, actor=manager, name="Filing")
    file_step = building.add_step(
        filing,
        actor=manager,
        name="File accounts at Companies House",
        type="simple",
        mode="manual",
        assignment_rule="client_partner",
        due_rule="before_due",
        due_days=5,
    )
    building.add_step(
        filing,
        actor=manager,
        name="Confirm the filing to the client",
        type="email",
        mode="automatic",
        subject="{{ client.name }}: your accounts have been filed",
        body="Dear {{ contacts.main.first_name | default: 'client' }},\n\nWe have filed the "
        "accounts for {{ client.name }}. There is nothing more you need to do.\n\n"
        "{{ practice.name }}",
        to_recipients=["contact:main", "contact:director"],
        depends_on=[file_step],
    )
    vat = building.create_template(
        practice=practice,
        actor=manager,
        name="VAT return",
        first_group="Quarter end",
        description="Quarterly VAT return under Making Tax Digital.",
    )
    quarter = vat.groups.get()
    remind = building.add_step(
        quarter,
        actor=manager,
        name="Remind the client to finish their bookkeeping",
        type="email",
        mode="automatic",
        send_rule="before_due",
        send_days=21,
        to_recipients=["contact:accounts", "contact:main"],
        subject="VAT quarter end: {{ client.name }}",
        body="Dear {{ contacts.main.first_name | default: 'client' }},\n\nYour VAT quarter has "
        "ended. Please make sure every transaction is in your books by "
        "{{ task.due_date }}.\n\n{{ practice.name }}",
    )
    prepare = building.add_step(
        quarter,
        actor=manager,
        name="Prepare the VAT return",
        type="simple",
        mode="manual",
        due_rule="before_due",
        due_days=7,
        depends_on=[remind],
        checklist=["Reconcile the VAT control account", "Check EC sales"],
    )
    building.add_step(
        quarter,
        actor=manager,
        name="Submit to HMRC",
        type="simple",
        mode="manual",
        assignment_rule="client_manager",
        due_rule="before_due",
        due_days=2,
        depends_on=[prepare],
    )
    payroll = _payroll_template(practice, manager)
    # The recurring work (sodium/demo_recurring.py) gets its template from the next period on;
    # its open tasks — the current and upcoming ones — get it below with the others. Its
    # finished history keeps none: those periods were done before the template existed.
    templates = {
        demo_recurring.VAT: vat,
        demo_recurring.ACCOUNTS: year_end,
        demo_recurring.PAYROLL: payroll,
    }
    for recurrence in Recurrence.objects.filter(practice=practice, name__in=templates):
        update_recurrence(
            recurrence, actor=manager, workflow_template_id=templates[recurrence.name].pk
        )
    with scopes_disabled():
        tasks = list(Task.objects.filter(practice=practice).select_related("service"))
    for template, word in ((year_end, "Year-end"), (vat, "VAT"), (payroll, "Payroll")):
        chosen = [
            t
            for t in tasks
            if t.service
            and t.service.name.startswith(word)
            and t.status in ("in_progress", "planned", "on_hold")
        ]
        if chosen:
            attach.attach_template_to_tasks(chosen, template, actor=manager)
    # Move some work along so the demo shows progress of every kind: run the first automatic
    # emails now (the worker would do it within seconds) and finish a few drafts.
    with scopes_disabled():
        first_emails = list(
            Step.objects.filter(
                practice=practice,
                name="Ask the client for their records",
                status="ready",
                task__status="in_progress",
            ).values_list("pk", flat=True)[:8]
        )
    for step_id in first_emails:
        engine.run_step(step_id)
    with scopes_disabled():
        drafts = list(
            Step.objects.filter(
                practice=practice, name="Prepare draft accounts", status="ready"
            ).select_related("task")[:3]
        )
    for step in drafts:
        engine.complete_step(step, actor=step.assignee or manager)


def _payroll_template(practice: Practice, manager: User):
    payroll = building.create_template(
        practice=practice,
        actor=manager,
        name="Monthly payroll",
        first_group="Pay run",
        description="Collect the month's changes, run the payroll and file the FPS with HMRC.",
    )
    run = payroll.groups.get()
    changes = building.add_step(
        run,
        actor=manager,
        name="Collect hours, starters and leavers",
        type="simple",
        mode="manual",
        assignment_rule="service_manager",
    )
    payslips = building.add_step(
        run,
        actor=manager,
        name="Run the payroll and send payslips",
        type="simple",
        mode="manual",
        assignment_rule="service_manager",
        depends_on=[changes],
        checklist=["Hours and overtime", "Pension contributions", "Payslips sent"],
    )
    building.add_step(
        run,
        actor=manager,
        name="Submit the FPS to HMRC",
        type="simple",
        mode="manual",
        assignment_rule="service_manager",
        depends_on=[payslips],
    )
    return payroll
