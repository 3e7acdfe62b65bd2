from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils.module_loading import autodiscover_modules

from sodium.statemachine import machines_markdown

DOC = Path(settings.BASE_DIR) / "docs" / "state-machines.md"


class Command(BaseCommand):
    help = "Write docs/state-machines.md from every app's Machine tables (--check: fail if stale)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--check", action="store_true")

    def handle(self, *args, check: bool = False, **options) -> None:
        # Each app declares its machines in its engine module; load them without naming apps.
        autodiscover_modules("engine")
        text = machines_markdown()
        if check:
            if not DOC.exists() or DOC.read_text() != text:
                raise SystemExit("docs/state-machines.md is stale: run manage.py state_machines")
            self.stdout.write("docs/state-machines.md is up to date.")
            return
        DOC.write_text(text)
        self.stdout.write(f"Wrote {DOC}")
