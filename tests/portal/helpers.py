"""Shared set-up for portal tests: client-facing steps and signing a contact in."""

from __future__ import annotations

import re

from django.core import mail
from django.core.mail import EmailMessage
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from portal import access
from portal.models import AccessToken
from sodium import outbox
from sodium.models import Contact, OutboundMessage
from tests import factories as f
from tests.workflows.wf_factories import chain_template
from workflows import attach
from workflows.models import Step, WorkflowTemplate


def template_for(practice, actor) -> WorkflowTemplate:
    return chain_template(practice, actor)


def make_step(client, template: WorkflowTemplate, actor, **fields) -> Step:
    """Attach `template` to a new task of `client` and make its first step look like `fields`.

    Rows are set directly (type, status, sub-status…), which is what the portal reads; the
    second step of the chain stays a blocked email step that the portal must never list.
    """
    with scopes_disabled():
        task = f.TaskFactory(client=client, owner=actor)
        step = attach.attach_template(task, template, actor=actor)[0]
        fields.setdefault("mode", "manual")
        if fields.get("status") == Step.Status.IN_PROGRESS:
            fields.setdefault("started_at", timezone.now())
        if fields.get("status") == Step.Status.DONE:
            fields.setdefault("completed_at", timezone.now())
        Step.objects.filter(pk=step.pk).update(**fields)
        step.refresh_from_db()
    return step


def sign_in(http: HttpClient, contact: Contact) -> None:
    """Sign `contact` in through the real link flow (GET the page, POST its button)."""
    token = access.issue_token(contact, purpose=AccessToken.Purpose.SIGN_IN)
    url = reverse("portal:link", args=[token])
    page = http.get(url)
    response = http.post(url, {"csrfmiddlewaretoken": page.context["csrf_token"]})
    assert response.status_code == 302, response.status_code


def token_in(text: str) -> str:
    """Return the token of the first portal link in an email body."""
    match = re.search(r"/portal/link/([A-Za-z0-9_-]+)/", text)
    assert match, text
    return match.group(1)


def delivered(message: OutboundMessage) -> EmailMessage:
    """Send `message` if it is still queued; return the email the backend received for it.

    Stored bodies hold a placeholder where a portal token goes; the sent email has the link.
    """
    outbox.deliver(message.pk)
    for email in reversed(mail.outbox):
        if email.metadata.get("sodium_message_id") == str(message.pk):
            return email
    raise AssertionError(f"message {message.pk} was not sent")
