"""Forms of the AR pages: they parse input only; the engine decides what is allowed."""

from __future__ import annotations

from django import forms

from collections_ar.models import OUTSTANDING, Customer, Invoice
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
