"""Upgrade check: the previous release's demo database, migrated by this code, still works.

Run by .ci/run after `manage.py migrate` on a database restored from
.ci/upgrade/previous-release.sql.gz (the demo practice as `seed_demo` built it at the commit
in .ci/upgrade/RELEASE). Checks that nothing is left unapplied, that the rows the previous
release wrote are all still there (counts taken before the migration, passed in a file), and
that the pages every role opens first render for the demo practice's people.

Usage: python .ci/upgrade/check.py COUNTS_FILE   (DATABASE_URL names the upgraded database)
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

# Tables whose rows the previous release's demo wrote; an upgrade must keep every one of them.
TABLES = [
    "sodium_practice",
    "sodium_user",
    "sodium_client",
    "sodium_contact",
    "sodium_task",
    "workflows_step",
    "sodium_outboundmessage",
    "sodium_timer",
    "portal_accesstoken",
    "checks_transaction",
    "collections_ar_invoice",
]

PAGES = {
    "olivia@hartleyfinch.example": [
        "workflows:overview",
        "sodium:task-list",
        "sodium:client-list",
        "checks:health-list",
    ],
    "sam@hartleyfinch.example": ["workflows:my-steps"],
    "rachel@hartleyfinch.example": ["collections_ar:customers"],
}


def count_rows(cursor) -> dict[str, int]:
    """Return the row count of each table in TABLES."""
    counts = {}
    for table in TABLES:
        cursor.execute(f'SELECT count(*) FROM "{table}"')  # noqa: S608 - names from TABLES
        counts[table] = cursor.fetchone()[0]
    return counts


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sodium.settings")
    os.environ.setdefault("SODIUM_ALLOWED_HOSTS", "testserver")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.urls import reverse
    from django_scopes import scopes_disabled

    from sodium.models import Task, User

    call_command("migrate", check=True, verbosity=0)  # exits non-zero if anything is unapplied
    before = json.loads(Path(sys.argv[1]).read_text())
    with connection.cursor() as cursor:
        after = count_rows(cursor)
    lost = {t: (before[t], after[t]) for t in TABLES if after[t] < before[t]}
    assert not lost, f"rows lost in the upgrade (before, after): {lost}"

    client = Client()
    with scopes_disabled():
        task = Task.objects.order_by("pk").first()
        assert task is not None, "the restored demo has no tasks"
        for email, names in PAGES.items():
            client.force_login(User.objects.get(email=email))
            urls = [reverse(name) for name in names]
            if email.startswith("olivia"):
                urls.append(reverse("sodium:task-detail", kwargs={"task_id": task.pk}))
            for url in urls:
                response = client.get(url, secure=True)
                assert response.status_code == 200, (email, url, response.status_code)
                print(f"upgrade check: {url} answers 200 for {email}")
    print(f"upgrade check: OK, rows kept in {len(TABLES)} tables: {after}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--count":
        import psycopg

        with psycopg.connect(os.environ["DATABASE_URL"]) as conn, conn.cursor() as cur:
            Path(sys.argv[2]).write_text(json.dumps(count_rows(cur)))
    else:
        main()
