"""Shared setup for the staff side of the portal: sample files and client-facing workflows."""

from __future__ import annotations

import io
import itertools
from pathlib import Path
from unittest import mock

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django_scopes import scopes_disabled
from PIL import Image

from tests import factories as f
from tests.base import BaseTestCase
from tests.portal.sample_files import office_bytes
from workflows import attach, building
from workflows import engine as wf_engine
from workflows.models import Step

RUN = "workflows.tasks.run_step_task.delay"
DELIVER = "sodium.tasks.deliver_message_task.delay"

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
_names = itertools.count(1)


def pdf(name: str = "accounts.pdf", data: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/pdf")


def png_bytes() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (3, 2), (200, 30, 30)).save(buf, "PNG")
    return buf.getvalue()


def docx_bytes() -> bytes:
    return office_bytes("docx")


def stored_files() -> set[Path]:
    root = Path(settings.MEDIA_ROOT) / "documents"
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def request_step(**overrides) -> dict:
    fields = {
        "name": "Request bank statements",
        "type": "document_request",
        "mode": "automatic",
        "to_recipients": ["contact:main"],
        "settings": {"title": "Bank statements for 2025", "deadline_days": 7},
    }
    fields.update(overrides)
    return fields


def approval_step(**overrides) -> dict:
    fields = {
        "name": "Approve draft accounts",
        "type": "document_approval",
        "mode": "manual",
        "to_recipients": ["contact:main"],
    }
    fields.update(overrides)
    return fields


def confirmation_step(**overrides) -> dict:
    fields = {
        "name": "Confirm filing",
        "type": "client_confirmation",
        "mode": "automatic",
        "to_recipients": ["contact:main"],
        "settings": {
            "message": "Please confirm we may file the accounts.",
            "button_text": "Yes, file them",
            "thank_you": "Thank you.",
        },
    }
    fields.update(overrides)
    return fields


def simple_step(**overrides) -> dict:
    fields = {"name": "Prepare final accounts", "type": "simple", "mode": "manual"}
    fields.update(overrides)
    return fields


def template_with(practice, actor, *specs: tuple[dict, list[int]]):
    """Build a one-group template; each spec is (step fields, indexes of steps it needs)."""
    with scopes_disabled():
        template = building.create_template(
            practice=practice, actor=actor, name=f"Portal template {next(_names)}"
        )
        group = template.groups.get()
        made = []
        for fields, needs in specs:
            made.append(
                building.add_step(group, actor=actor, depends_on=[made[i] for i in needs], **fields)
            )
    return template


class PortalStaffTestCase(BaseTestCase):
    """Acme Ltd with its main contact Ann, and a started task owned by `staff`."""

    def setUp(self) -> None:
        super().setUp()
        self.acme = f.ClientFactory(practice=self.practice, name="Acme Ltd")
        self.ann = f.ContactFactory(
            client=self.acme, first_name="Ann", last_name="Acme", email="ann@acme.example"
        )
        self.task = f.TaskFactory(
            client=self.acme, owner=self.staff, status="in_progress", name="Year end 2025"
        )

    def attach(self, *specs: tuple[dict, list[int]], task=None) -> list[Step]:
        template = template_with(self.practice, self.manager, *specs)
        with mock.patch(RUN), self.captureOnCommitCallbacks(execute=True):
            return attach.attach_template(task or self.task, template, actor=self.manager)

    def run_step(self, step: Step) -> Step:
        with mock.patch(RUN), mock.patch(DELIVER), self.captureOnCommitCallbacks(execute=True):
            wf_engine.run_step(step.pk)
        step.refresh_from_db()
        return step

    def task_url(self, task=None) -> str:
        return f"/tasks/{(task or self.task).pk}/"
