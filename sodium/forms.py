"""Forms for the core pages; each takes the practice to limit its choices to that tenant."""

from __future__ import annotations

import calendar
from zoneinfo import available_timezones

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.core.exceptions import ValidationError
from django.db.models.functions import Lower

from sodium import formfields, queries
from sodium.models import Client, Contact, Practice, Service, Tag, Task, Team
from sodium.roles import Role, grantable_roles
from sodium.uploads import validate_logo

MONTHS = [("", "—")] + [(i, calendar.month_name[i]) for i in range(1, 13)]
DAYS = [("", "—")] + [(i, str(i)) for i in range(1, 32)]


class SignInForm(AuthenticationForm):
    username = forms.EmailField(
        label="Email", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )
    error_messages = {
        "invalid_login": "That email and password do not match an account.",
        "inactive": "This account is switched off. Ask your practice's admin.",
    }


class TwoFactorCodeForm(forms.Form):
    """A code from the authenticator app, or a backup code where one may be used."""

    code = forms.CharField(
        label="Code",
        max_length=20,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "spellcheck": "false",
                "autocapitalize": "none",
                "class": "code-input",
            }
        ),
    )

    def __init__(
        self, *args, label: str = "Code", help_text: str = "", autofocus: bool = False, **kwargs
    ) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["code"]
        field.label, field.help_text = label, help_text
        if autofocus:
            field.widget.attrs["autofocus"] = True


class ResetOrInviteForm(PasswordResetForm):
    """Send a set-password link to any active account, including invited members who have
    not chosen a password yet (Django's form skips those, stranding expired invitations)."""

    def get_users(self, email):
        return get_user_model()._default_manager.filter(email__iexact=email, is_active=True)


class PracticeForm(forms.Form):
    """Base for forms whose choices come from one practice."""

    def __init__(self, *args, practice: Practice, **kwargs) -> None:
        self.practice = practice
        super().__init__(*args, **kwargs)

    def _members(self):
        return queries.members_of(self.practice)


def tenant_formfield(db_field, **kwargs):
    """Build a model form field without querying: choices are set per practice in __init__.

    Tenant-owned managers refuse to query outside a practice scope, and a ModelForm class
    is built at import time, when there is none.
    """
    if db_field.is_relation and db_field.related_model is not None:
        kwargs.setdefault("queryset", db_field.related_model._base_manager.none())
        kwargs.setdefault(
            "form_class",
            formfields.ModelMultipleChoiceField
            if db_field.many_to_many
            else formfields.ModelChoiceField,
        )
    return db_field.formfield(**kwargs)


class PracticeModelForm(forms.ModelForm):
    def __init__(self, *args, practice: Practice, **kwargs) -> None:
        self.practice = practice
        super().__init__(*args, **kwargs)
        members = queries.members_of(practice)
        for _name, field in self.fields.items():
            if isinstance(field, forms.ModelChoiceField):
                model = field.queryset.model
                if model._meta.label == "sodium.User":
                    field.queryset = members
                    field.empty_label = "Nobody"
                elif hasattr(model, "practice"):
                    field.queryset = model.objects.filter(practice=practice)


class ClientForm(PracticeModelForm):
    year_end_day = forms.TypedChoiceField(
        choices=DAYS, coerce=int, empty_value=None, required=False, label="Year end day"
    )
    year_end_month = forms.TypedChoiceField(
        choices=MONTHS, coerce=int, empty_value=None, required=False, label="Year end month"
    )

    class Meta:
        model = Client
        formfield_callback = tenant_formfield
        fields = [
            "name",
            "reference",
            "type",
            "company_number",
            "year_end_day",
            "year_end_month",
            "vat_periods",
            "confirmation_statement_date",
            "tags",
            "client_manager",
            "partner",
            "associate",
            "default_assignee",
            "default_reviewer",
            "notes",
        ]
        widgets = {
            "tags": forms.CheckboxSelectMultiple,
            "notes": forms.Textarea(attrs={"rows": 3}),
            "confirmation_statement_date": forms.DateInput(attrs={"type": "date"}),
        }
        labels = {"confirmation_statement_date": "Confirmation statement"}

    def clean_reference(self) -> str:
        reference = self.cleaned_data["reference"].strip()
        clash = (
            Client.objects.filter(practice=self.practice)
            .annotate(ref=Lower("reference"))
            .filter(ref=reference.lower())
        )
        if self.instance.pk:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise ValidationError(f"Another client already uses the reference {reference}.")
        return reference

    def clean(self):
        cleaned = super().clean()
        day, month = cleaned.get("year_end_day"), cleaned.get("year_end_month")
        if bool(day) != bool(month):
            self.add_error("year_end_month", "Give both the day and the month of the year end.")
        elif day and month:
            last = calendar.monthrange(2023, month)[1]  # a non-leap year: 29 Feb is not a year end
            if day > last:
                self.add_error(
                    "year_end_day", f"{calendar.month_name[month]} has only {last} days."
                )
        return cleaned

    def service_kwargs(self) -> dict:
        data = {k: v for k, v in self.cleaned_data.items() if k != "tags"}
        return {"tags": list(self.cleaned_data.get("tags") or []), **data}


class ContactForm(forms.ModelForm):
    class Meta:
        model = Contact
        formfield_callback = tenant_formfield
        fields = [
            "first_name",
            "last_name",
            "email",
            "phone",
            "mobile",
            "sms_opt_out",
            "sms_opt_out_reason",
            "is_main",
            "is_billing",
            "is_payroll",
            "is_accounts",
            "is_director",
        ]
        widgets = {
            "email": forms.EmailInput(attrs={"autocomplete": "off"}),
            "mobile": forms.TextInput(attrs={"autocomplete": "off", "inputmode": "tel"}),
        }
        help_texts = {
            "mobile": "Stored with its country code; numbers without one are British.",
            "sms_opt_out": "Never send this contact text messages.",
        }

    def clean_phone(self) -> str:
        phone = self.cleaned_data["phone"].strip()
        allowed = set("0123456789+() -")
        if phone and (set(phone) - allowed or sum(c.isdigit() for c in phone) < 7):
            raise ValidationError("Enter a phone number, e.g. 020 7946 0000 or +44 20 7946 0000.")
        return phone

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("email") and not cleaned.get("phone") and not cleaned.get("mobile"):
            self.add_error("email", "Give an email address or a phone number.")
        if not cleaned.get("sms_opt_out"):
            cleaned["sms_opt_out_reason"] = ""
        return cleaned


class ClientServiceForm(PracticeForm):
    service = formfields.ModelChoiceField(
        queryset=Service._base_manager.none(), empty_label="Choose a service…"
    )
    service_manager = formfields.ModelChoiceField(
        queryset=None, required=False, empty_label="Nobody yet"
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = Service.objects.filter(practice=self.practice)
        self.fields["service_manager"].queryset = self._members()


class TaskForm(PracticeModelForm):
    class Meta:
        model = Task
        formfield_callback = tenant_formfield
        fields = [
            "client",
            "name",
            "service",
            "owner",
            "team",
            "start_date",
            "due_date",
            "description",
        ]
        widgets = {
            "start_date": forms.DateInput(attrs={"type": "date"}),
            "due_date": forms.DateInput(attrs={"type": "date"}),
            "description": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = Client.objects.filter(
            practice=self.practice, status=Client.Status.ACTIVE
        ).order_by("name")
        self.fields["client"].empty_label = "Choose a client…"
        self.fields["service"].empty_label = "No service"
        self.fields["team"].empty_label = "No team"
        self.fields["owner"].empty_label = "Unassigned"
        if self.instance.pk:
            del self.fields["client"]

    def clean(self):
        cleaned = super().clean()
        start, due = cleaned.get("start_date"), cleaned.get("due_date")
        if start and due and due < start:
            self.add_error("due_date", "The due date cannot be before the start date.")
        return cleaned


class TaskFilterForm(PracticeForm):
    q = forms.CharField(required=False, label="Search")
    status = forms.ChoiceField(
        required=False,
        choices=[("open", "Open"), ("all", "All")] + list(Task.Status.choices),
    )
    owner = forms.ChoiceField(required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = [("", "Anyone"), ("me", "Me")] + [
            (str(u.pk), str(u)) for u in self._members()
        ]


class MemberAddForm(PracticeForm):
    full_name = forms.CharField(max_length=150)
    email = forms.EmailField()
    role = forms.ChoiceField(choices=Role.choices)

    def __init__(self, *args, actor_role: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = grantable_roles(actor_role)
        self.fields["role"].initial = Role.STAFF


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)

    def __init__(self, *args, actor_role: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = grantable_roles(actor_role)


class MemberRemoveForm(PracticeForm):
    reassign_to = formfields.ModelChoiceField(
        queryset=None,
        required=False,
        label="Hand their work to",
        empty_label="Choose a member…",
    )

    def __init__(self, *args, leaving, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reassign_to"].queryset = self._members().exclude(pk=leaving.pk)


class TeamForm(PracticeForm):
    name = forms.CharField(max_length=80)
    members = formfields.ModelMultipleChoiceField(
        queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, team: Team | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.team = team
        self.fields["members"].queryset = self._members()

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        clash = Team.objects.filter(practice=self.practice, name__iexact=name)
        if self.team:
            clash = clash.exclude(pk=self.team.pk)
        if clash.exists():
            raise ValidationError("There is already a team with that name.")
        return name


class ServiceForm(PracticeModelForm):
    class Meta:
        model = Service
        formfield_callback = tenant_formfield
        fields = ["name", "description", "default_team"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        clash = Service.objects.filter(practice=self.practice, name__iexact=name)
        if self.instance.pk:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise ValidationError("The catalogue already has a service with that name.")
        return name


class TagForm(PracticeForm):
    name = forms.CharField(max_length=40)
    colour = forms.ChoiceField(choices=Tag.Colour.choices)

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if Tag.objects.filter(practice=self.practice, name__iexact=name).exists():
            raise ValidationError("There is already a tag with that name.")
        return name


_TIME_ZONES = sorted(available_timezones())


class PracticeSettingsForm(forms.ModelForm):
    time_zone = forms.ChoiceField(choices=[(tz, tz) for tz in _TIME_ZONES])
    logo = forms.FileField(
        required=False,
        help_text="PNG, JPEG or WebP, at most 1 MB and 4000 pixels a side. Shown in emails and "
        "the portal.",
    )
    primary_colour = forms.CharField(
        max_length=7, widget=forms.TextInput(attrs={"type": "color"}), label="Brand colour"
    )

    class Meta:
        model = Practice
        fields = [
            "name",
            "sender_name",
            "reply_to",
            "primary_colour",
            "logo",
            "time_zone",
            "bank_holiday_nation",
            "send_from",
            "send_until",
            "country",
            "require_two_factor",
        ]
        labels = {
            "sender_name": "Email sender name",
            "reply_to": "Reply-to address",
            "require_two_factor": "Require two-factor sign-in for every member",
        }
        help_texts = {
            "sender_name": 'The name clients see on emails, e.g. "Ledger & Co Accountants".',
            "reply_to": "Where client replies go. Leave empty to use the sender's address.",
            "country": "Two-letter country code, e.g. GB.",
            "send_from": "Workflow emails scheduled for a day go out from this time.",
            "send_until": "None go out after it; they wait for the next working day.",
        }
        widgets = {
            "send_from": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "send_until": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }

    def __init__(self, *args, can_require_two_factor: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not can_require_two_factor:  # only an owner decides (Perm.MANAGE_SECURITY)
            del self.fields["require_two_factor"]
        else:
            # A checkbox's help goes under it (the template writes it), not beside the label.
            field = self.fields["require_two_factor"]
            field.help_text = ""
            field.widget.attrs["aria-describedby"] = "require-two-factor-help"

    def clean_logo(self):
        logo = self.cleaned_data.get("logo")
        if logo is False:  # "clear" ticked
            return ""
        if logo is None or logo == self.instance.logo:
            return self.instance.logo
        return validate_logo(logo)

    def clean_country(self) -> str:
        country = self.cleaned_data["country"].strip().upper()
        if len(country) != 2 or not country.isalpha():
            raise ValidationError("Use a two-letter country code, e.g. GB.")
        return country
