"""Helpers to build client-facing workflows for portal tests."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django_scopes import scopes_disabled

from portal import files
from workflows import building

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def pdf_upload(name: str = "draft-accounts.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def approval_chain_template(practice, actor, *, chase: dict | None = None):
    """The seed's chain: manual "Prepare draft accounts" → approval → automatic confirmation."""
    with scopes_disabled():
        template = building.create_template(practice=practice, actor=actor, name="Year end")
        group = template.groups.get()
        prepare = building.add_step(
            group, actor=actor, name="Prepare draft accounts", type="simple", mode="manual"
        )
        approval = building.add_step(
            group,
            actor=actor,
            name="Send draft accounts for approval",
            type="document_approval",
            mode="manual",
            to_recipients=["contact:main"],
            depends_on=[prepare],
        )
        settings = {
            "message": "Please confirm you are happy for us to file the accounts.",
            "button_text": "Yes, file them",
            "thank_you": "Thank you, we will file them this week.",
            "notify_assignee": True,
        }
        if chase:
            settings["chase"] = chase
        building.add_step(
            group,
            actor=actor,
            name="Confirm filing",
            type="client_confirmation",
            mode="automatic",
            to_recipients=["contact:main"],
            depends_on=[approval],
            settings=settings,
        )
    return template


def staff_document(step, user):
    return files.store(
        pdf_upload(),
        practice_id=step.practice_id,
        client_id=step.task.client_id,
        user=user,
        task=step.task,
    )
