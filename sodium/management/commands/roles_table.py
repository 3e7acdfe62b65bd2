from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from sodium.roles import roles_markdown

DOC = Path(settings.BASE_DIR) / "docs" / "roles.md"


class Command(BaseCommand):
    help = "Write docs/roles.md from sodium/roles.py (--check: fail if stale)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--check", action="store_true")

    def handle(self, *args, check: bool = False, **options) -> None:
        text = roles_markdown()
        if check:
            if not DOC.exists() or DOC.read_text() != text:
                raise SystemExit("docs/roles.md is stale: run manage.py roles_table")
            self.stdout.write("docs/roles.md is up to date.")
            return
        DOC.write_text(text)
        self.stdout.write(f"Wrote {DOC}")
