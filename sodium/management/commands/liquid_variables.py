from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from sodium.messaging.docs import variables_markdown

DOC = Path(settings.BASE_DIR) / "docs" / "liquid-variables.md"


class Command(BaseCommand):
    help = "Write docs/liquid-variables.md from the message-use registry (--check: fail if stale)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--check", action="store_true")

    def handle(self, *args, check: bool = False, **options) -> None:
        text = variables_markdown()
        if check:
            if not DOC.exists() or DOC.read_text() != text:
                raise SystemExit(
                    "docs/liquid-variables.md is stale: run manage.py liquid_variables"
                )
            self.stdout.write("docs/liquid-variables.md is up to date.")
            return
        DOC.write_text(text)
        self.stdout.write(f"Wrote {DOC}")
