"""The demo practice's owner visits every staff page; axe and the CSP watch check each one.

No interaction beyond loading: the journeys' watch (conftest.py) runs axe-core after every
`page.goto`, so a page that fails WCAG 2.2 AA (serious or critical) or breaks the policy fails
this tour even when no other journey passes through it.
"""

from __future__ import annotations

import pytest
from django_scopes import scopes_disabled

from collections_ar.models import ARWorkflow, Customer
from sodium import demo
from sodium.models import Client, OutboundMessage, Recurrence, Task
from workflows.models import ContentBlock, WorkflowTemplate

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OWNER_EMAIL = "olivia@hartleyfinch.example"


@pytest.fixture
def tour():
    with scopes_disabled():
        practice = demo.build_demo(history_months=1)
        client = Client.objects.filter(practice=practice).order_by("name").first()
        task = Task.objects.filter(practice=practice).order_by("pk").first()
        template = WorkflowTemplate.objects.filter(practice=practice).order_by("pk").first()
        block = ContentBlock.objects.filter(practice=practice).order_by("pk").first()
        message = OutboundMessage.objects.filter(practice=practice).order_by("pk").first()
        vat = Recurrence.objects.get(practice=practice, name="Quarterly VAT")
        customer = Customer.objects.filter(practice=practice).order_by("pk").first()
        workflow = ARWorkflow.objects.filter(practice=practice).order_by("pk").first()
        action = workflow.actions.order_by("position").first()
    pages = [
        "/",
        "/clients/",
        f"/clients/{client.pk}/",
        f"/clients/{client.pk}/edit/",
        "/clients/new/",
        "/tasks/",
        f"/tasks/{task.pk}/",
        "/tasks/new/",
        "/workflows/my-steps/",
        "/workflows/overview/",
        "/messages/",
        "/notifications/",
        "/account/",
        "/workflows/templates/",
        "/workflows/templates/new/",
        "/workflows/content-blocks/",
        "/settings/practice/",
        "/settings/members/",
        "/settings/teams/",
        "/settings/services/",
        "/settings/tags/",
        "/recurring/",
        "/recurring/new/",
        f"/recurring/{vat.pk}/",
        "/checks/",
        f"/checks/clients/{client.pk}/",
        "/checks/library/",
        "/checks/flows/",
        "/checks/flows/list/",
        "/checks/flows/settings/",
        "/checks/flows/creator/",
        "/checks/flows/templates/",
        "/ar/",
        "/ar/?band=1-30",
        f"/ar/customers/{customer.pk}/",
        "/ar/statuses/",
        "/ar/invoices/new/",
        "/ar/import/",
        "/ar/dashboard/",
        "/ar/settings/",
        "/ar/workflows/",
        "/ar/workflows/new/",
        f"/ar/workflows/{workflow.pk}/?customer={customer.pk}",
        f"/ar/workflows/{workflow.pk}/actions/new/?kind=sms",
        f"/ar/workflows/{workflow.pk}/actions/{action.pk}/",
    ]
    if template:
        pages.append(f"/workflows/templates/{template.pk}/")
    if block:
        pages.append(f"/workflows/content-blocks/{block.pk}/")
    if message:
        pages.append(f"/messages/{message.pk}/")
    return pages


@pytest.mark.parametrize("width", [1280, 390])
def test_every_staff_page_passes_axe_and_the_csp(live_server, browser, screenshot, tour, width):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server.url}/sign-in/")
    page.get_by_label("Email").fill(OWNER_EMAIL)
    page.get_by_label("Password").fill(demo.DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")
    for path in tour:
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 200, path
        if path.startswith(("/recurring/", "/checks/", "/ar/", "/workflows/overview/")) or (
            path.startswith("/clients/") and path[-2].isdigit()
        ):
            # The demo's recurring work, a client's page with it, and the managers' overview.
            page.locator("#recurrence-preview .rec-summary, h1").first.wait_for()
            parts = [
                "detail" if p.isdigit() else p.replace("?", "_").replace("=", "_")
                for p in path.split("/")
                if p and not p.startswith("?customer")
            ]
            name = "tour_" + "_".join(parts)
            screenshot(page, name)
    context.close()
