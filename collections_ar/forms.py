"""Forms of the AR pages: they parse input only; the engine decides what is allowed."""

from __future__ import annotations

from django import forms

from collections_ar.models import OUTSTANDING, Customer, Invoice
from collections_ar.queries import AGE_BANDS, NONE, CustomerFilter
from sodium.models import Client
from sodium.money import format_money


class PaymentForm(forms.Form):
    invoice = forms.ModelChoiceField(queryset=Invoice.objects.none(), empty_label=None)
    amount = forms.DecimalField(
        max_digits=14,
        decimal_places=2,
        error_messages={"invalid": "Enter the amount as pounds and pence, e.g. 120.50."},
    )
    date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    reference = forms.CharField(max_length=100, required=False)

    def __init__(self, *args, customer: Customer, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["invoice"].queryset = Invoice.objects.filter(
            practice=customer.practice_id, customer=customer, status__in=OUTSTANDING
        ).order_by("due_date", "id")
        self.fields["invoice"].label_from_instance = lambda inv: (
            f"{inv.number} (balance {format_money(inv.balance, inv.currency)})"
        )


class StatusNameForm(forms.Form):
    name = forms.CharField(max_length=80)


class InvoiceForm(forms.Form):
    """A new invoice typed in by hand: for which client, its number, dates and total."""

    client = forms.ModelChoiceField(
        queryset=Client.objects.none(),
        label="Customer",
        empty_label="Choose a client",
        error_messages={"required": "Choose the client the invoice is for."},
    )
    number = forms.CharField(max_length=50, label="Invoice number")
    issue_date = forms.DateField(
        label="Issue date", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    due_date = forms.DateField(
        label="Due date", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    currency = forms.CharField(max_length=3, initial="GBP", label="Currency")
    total = forms.DecimalField(
        max_digits=14,
        decimal_places=2,
        label="Total (VAT included)",
        error_messages={"invalid": "Enter the total as pounds and pence, e.g. 1200.00."},
    )

    def __init__(self, *args, practice, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = Client.objects.filter(
            practice=practice, status=Client.Status.ACTIVE
        ).order_by("name")


class CustomerFilterForm(forms.Form):
    """The customers tab's filters (GET); an unknown value is ignored, not an error page."""

    specialist = forms.ChoiceField(label="AR specialist", required=False)
    workflow = forms.ChoiceField(label="Workflow", required=False)
    status = forms.ChoiceField(label="Collection status", required=False)
    band = forms.ChoiceField(label="Overdue", required=False)

    def __init__(self, data, *, specialists, workflows, statuses) -> None:
        super().__init__(data)
        self.fields["specialist"].choices = [("", "Anyone"), (NONE, "Nobody")] + [
            (str(u.pk), str(u)) for u in specialists
        ]
        self.fields["workflow"].choices = [("", "Any workflow"), (NONE, "None")] + [
            (str(w.pk), w.name) for w in workflows
        ]
        self.fields["status"].choices = [("", "Any status")] + [
            (str(s.pk), s.name) for s in statuses
        ]
        self.fields["band"].choices = [("", "Any age")] + AGE_BANDS

    def filters(self) -> CustomerFilter:
        """Return the valid filters as a `queries.CustomerFilter`."""
        self.is_valid()
        data = self.cleaned_data
        return CustomerFilter(**{name: data.get(name) or "" for name in self.fields})
