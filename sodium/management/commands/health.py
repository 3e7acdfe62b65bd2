"""`manage.py health [--database] [--broker] [--sweep]`: the /health/ checks, for containers.

Prints the result as JSON and exits 1 when a check fails, so a compose health check can run it
where there is no web server (beat: `manage.py health --sweep`). With no option, all checks.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from sodium.observability import health


class Command(BaseCommand):
    help = "Run the health checks (database, broker, sweep); exit 1 if one fails."

    def add_arguments(self, parser) -> None:
        for name in health.CHECKS:
            parser.add_argument(f"--{name}", action="store_true", help=f"check the {name}")

    def handle(self, *args, **options) -> None:
        names = [name for name in health.CHECKS if options[name]] or None
        result = health.run_checks(names)
        self.stdout.write(json.dumps(result["checks"]))
        if not result["ok"]:
            raise CommandError(
                "unhealthy: "
                + ", ".join(name for name, check in result["checks"].items() if not check["ok"])
            )
