"""The core's templates name no app: every app's links reach core pages by registration
(sodium/nav.py, sodium/panels.py, sodium/work.py, sodium/focus.py)."""

from __future__ import annotations

import re
from pathlib import Path

from django.test import SimpleTestCase

ROOT = Path(__file__).resolve().parents[2] / "templates"
APPS = ("workflows", "portal", "checks", "collections_ar")
# A URL name ("workflows:step-done") or a path ("/portal/…"); prose like "workflow emails" is fine.
_NAMES = "|".join(APPS)
NAMING_AN_APP = re.compile(rf"\b(?:{_NAMES}):|/(?:{_NAMES})/")


def core_templates() -> list[Path]:
    return sorted((ROOT / "sodium").rglob("*.html")) + [ROOT / "base.html"]


def app_names_in(text: str) -> list[str]:
    return [m.group(0) for m in NAMING_AN_APP.finditer(text)]


class CoreTemplatesNameNoAppTests(SimpleTestCase):
    def test_the_pattern_catches_url_names_and_paths_and_spares_prose(self) -> None:
        self.assertEqual(
            app_names_in("{% url 'workflows:my-steps' %} /portal/x/ checks: collections_ar:y"),
            ["workflows:", "/portal/", "checks:", "collections_ar:"],
        )
        self.assertEqual(app_names_in("Workflow emails, the portal's checks."), [])

    def test_no_core_template_names_an_app(self) -> None:
        files = core_templates()
        self.assertGreater(len(files), 40)  # the scan really reads the core's templates
        found = {
            str(path.relative_to(ROOT)): names
            for path in files
            if (names := app_names_in(path.read_text()))
        }
        self.assertEqual(found, {})
