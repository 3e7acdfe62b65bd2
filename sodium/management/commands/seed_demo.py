from __future__ import annotations

from django.core.management.base import BaseCommand

from sodium import demo


class Command(BaseCommand):
    help = "Create the demo practice (once) and print how to sign in."

    def handle(self, *args, **options) -> None:
        if demo.demo_exists():
            self.stdout.write("The demo practice already exists.")
        else:
            demo.build_demo()
            self.stdout.write(self.style.SUCCESS("Created the demo practice."))
        self.stdout.write(
            "\nSign in at http://127.0.0.1:8000/sign-in/ with any of these "
            f"(password: {demo.DEMO_PASSWORD}):"
        )
        for name, email, role in demo.PEOPLE:
            self.stdout.write(f"  {email:<34} {name} ({role.label})")
