from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone

from sodium.roles import Role
from sodium.tenancy import TenantManager

hex_colour = RegexValidator(r"^#[0-9a-fA-F]{6}$", "Use a colour like #1f6feb.")


class Practice(models.Model):
    """The tenant: an accounting practice with its people, clients and branding."""

    class BankHolidayNation(models.TextChoices):
        # Whose bank holidays are non-working days for the practice's schedules
        # (sodium.schedules.working_days maps each to the `holidays` package's subdivision).
        ENGLAND_WALES = "england_wales", "England and Wales"
        SCOTLAND = "scotland", "Scotland"
        NORTHERN_IRELAND = "northern_ireland", "Northern Ireland"

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60, unique=True)
    time_zone = models.CharField(max_length=64, default="Europe/London")
    bank_holiday_nation = models.CharField(
        "bank holidays",
        max_length=20,
        choices=BankHolidayNation.choices,
        default=BankHolidayNation.ENGLAND_WALES,
        help_text="Schedules treat these bank holidays, and weekends, as non-working days.",
    )
    country = models.CharField(max_length=2, default="GB")
    # Scheduled workflow emails go out inside these hours, local time (sodium.schedules).
    send_from = models.TimeField("send scheduled emails from", default=dt.time(9, 0))
    send_until = models.TimeField("until", default=dt.time(17, 30))
    logo = models.ImageField(upload_to="logos/", blank=True)
    primary_colour = models.CharField(max_length=7, default="#1f5fbf", validators=[hex_colour])
    sender_name = models.CharField(max_length=120, blank=True)
    reply_to = models.EmailField(blank=True)
    require_two_factor = models.BooleanField(
        "two-factor sign-in required",
        default=False,
        help_text="Every member must sign in with a code from an authenticator app as well "
        "as their password. Members without one set it up at their next page.",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(send_until__gt=models.F("send_from")),
                name="practice_send_hours_in_order",
                violation_error_message="The sending hours must end after they start.",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def display_sender(self) -> str:
        return self.sender_name or self.name


class Membership(models.Model):
    """A user's place in a practice, with the role that decides what they may do there."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.STAFF)
    created_at = models.DateTimeField(default=timezone.now)
    # When the member's next morning reminder is due (sodium.reminders); empty while off.
    next_reminder_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["practice", "user"], name="membership_unique_user")
        ]
        indexes = [
            models.Index(fields=["practice", "role"]),
            # The reminder sweep's claim: only members who asked for reminders are in it.
            models.Index(
                fields=["next_reminder_at"],
                condition=models.Q(next_reminder_at__isnull=False),
                name="membership_reminder_due_idx",
            ),
        ]
        ordering = ["user__full_name"]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}) at {self.practice_id}"


class Team(models.Model):
    """A named group of members (e.g. "Accounts team"), used to assign and share work."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="teams")
    name = models.CharField(max_length=80)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="teams", blank=True)

    objects = TenantManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["practice", "name"], name="team_unique_name")
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
