from __future__ import annotations

import calendar
import datetime as dt

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from sodium.models.practices import Practice, Team
from sodium.schedules import client_dates
from sodium.sms.numbers import MobileNumberField
from sodium.tenancy import TenantManager

_person = {"on_delete": models.SET_NULL, "null": True, "blank": True, "related_name": "+"}


class Tag(models.Model):
    """A practice-defined label for clients (e.g. "VAT registered", "Payroll")."""

    class Colour(models.TextChoices):
        GREY = "grey", "Grey"
        BLUE = "blue", "Blue"
        GREEN = "green", "Green"
        AMBER = "amber", "Amber"
        RED = "red", "Red"
        PURPLE = "purple", "Purple"

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(max_length=40)
    colour = models.CharField(max_length=10, choices=Colour.choices, default=Colour.GREY)

    objects = TenantManager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["practice", "name"], name="tag_unique_name")]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Client(models.Model):
    """A business or person the practice works for."""

    class Type(models.TextChoices):
        LIMITED_COMPANY = "limited_company", "Limited company"
        SOLE_TRADER = "sole_trader", "Sole trader"
        PARTNERSHIP = "partnership", "Partnership"
        LLP = "llp", "LLP"
        INDIVIDUAL = "individual", "Individual"
        CHARITY = "charity", "Charity"
        TRUST = "trust", "Trust"

    class VatPeriods(models.TextChoices):
        # UK VAT "stagger" groups: which months the quarters end in.
        NONE = "none", "Not VAT registered"
        QUARTERLY_MAR = "q_mar", "Quarterly: Mar, Jun, Sep, Dec"
        QUARTERLY_APR = "q_apr", "Quarterly: Apr, Jul, Oct, Jan"
        QUARTERLY_MAY = "q_may", "Quarterly: May, Aug, Nov, Feb"
        MONTHLY = "monthly", "Monthly"
        ANNUAL = "annual", "Annual"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        ARCHIVED = "archived", "Archived"

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="clients")
    name = models.CharField(max_length=200)
    type = models.CharField(max_length=20, choices=Type.choices, default=Type.LIMITED_COMPANY)
    reference = models.CharField(max_length=30, help_text="Your code for this client, e.g. ACME01.")
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.ACTIVE, db_index=True
    )
    year_end_day = models.PositiveSmallIntegerField(null=True, blank=True)
    year_end_month = models.PositiveSmallIntegerField(null=True, blank=True)
    vat_periods = models.CharField(
        "VAT periods", max_length=10, choices=VatPeriods.choices, default=VatPeriods.NONE
    )
    company_number = models.CharField(max_length=20, blank=True)
    confirmation_statement_date = models.DateField(
        "confirmation statement date",
        null=True,
        blank=True,
        help_text="The confirmation statement's review date: the anniversary of incorporation "
        "or of the last statement.",
    )
    notes = models.TextField(blank=True)
    tags = models.ManyToManyField(Tag, related_name="clients", blank=True)
    client_manager = models.ForeignKey(settings.AUTH_USER_MODEL, **_person)
    partner = models.ForeignKey(settings.AUTH_USER_MODEL, **_person)
    associate = models.ForeignKey(settings.AUTH_USER_MODEL, **_person)
    default_assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="default flow assignee", **_person
    )
    default_reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="default flow reviewer", **_person
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantManager()

    class Meta:
        constraints = [
            models.UniqueConstraint("practice", Lower("reference"), name="client_unique_reference")
        ]
        indexes = [
            models.Index(fields=["practice", "status", "name"]),
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def year_end_label(self) -> str:
        if not (self.year_end_day and self.year_end_month):
            return ""
        return f"{self.year_end_day} {calendar.month_name[self.year_end_month]}"

    def next_year_end(self, after: dt.date | None = None) -> dt.date | None:
        """Return the first year-end date on or after `after` (today by default)."""
        if not (self.year_end_day and self.year_end_month):
            return None
        after = after or timezone.localdate()
        # relativedelta(day=31) stops at the month's last day, so a 29 February year end
        # falls on the 28th in other years.
        this_year = dt.date(after.year, self.year_end_month, 1)
        candidate = this_year + relativedelta(day=self.year_end_day)
        if candidate < after:
            candidate = this_year + relativedelta(years=1, day=self.year_end_day)
        return candidate

    def next_confirmation_statement_due(self, after: dt.date | None = None) -> dt.date | None:
        """Return the next confirmation statement deadline on or after `after` (today)."""
        return client_dates.next_confirmation_statement_due(self, after or timezone.localdate())


class Contact(models.Model):
    """A person at a client, with the roles that decide which emails they receive."""

    ROLE_FIELDS = {
        "main": "is_main",
        "billing": "is_billing",
        "payroll": "is_payroll",
        "accounts": "is_accounts",
        "director": "is_director",
    }

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="contacts")
    first_name = models.CharField(max_length=80)
    last_name = models.CharField(max_length=80, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=30, blank=True)
    # E.164 ("+447700900123"); a UK number may be typed as "07700 900123".
    mobile = MobileNumberField("mobile", blank=True, region="GB")
    # Whoever asked not to be texted is never texted (queue_sms refuses), whatever sends it.
    sms_opt_out = models.BooleanField("no text messages", default=False)
    sms_opt_out_at = models.DateTimeField(null=True, blank=True)
    sms_opt_out_reason = models.CharField("why", max_length=200, blank=True)
    is_main = models.BooleanField("main contact", default=False)
    is_billing = models.BooleanField("billing", default=False)
    is_payroll = models.BooleanField("payroll", default=False)
    is_accounts = models.BooleanField("accounts", default=False)
    is_director = models.BooleanField("director", default=False)
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantManager()

    class Meta:
        indexes = [models.Index(fields=["practice", "client"])]
        ordering = ["-is_main", "first_name", "last_name"]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def roles(self) -> list[str]:
        return [role for role, field in self.ROLE_FIELDS.items() if getattr(self, field)]


class Service(models.Model):
    """An entry in the practice's catalogue of services (e.g. "Year-end accounts")."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="services")
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    default_team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = TenantManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["practice", "name"], name="service_unique_name")
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ClientService(models.Model):
    """A service the practice provides to one client, with the member who manages it."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="client_services")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="client_services")
    service_manager = models.ForeignKey(settings.AUTH_USER_MODEL, **_person)
    started_on = models.DateField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "client", "service"], name="client_service_unique"
            )
        ]
        ordering = ["service__name"]

    def __str__(self) -> str:
        return f"{self.service} for {self.client}"
