"""Accounts receivable reads, and who may see what.

Every function takes the signed-in member's `Membership` (the user in the current practice,
with their role) and reads inside that practice only. Owners, admins and AR managers
(`Perm.MANAGE_AR`) see every customer; an AR specialist sees only the customers assigned to
them and their invoices; anyone without `Perm.WORK_AR` is refused (`PermissionDenied`, the
readable 403). Another practice's id, or a customer not assigned to the specialist, is a 404.
Collection statuses are managed only with `Perm.MANAGE_AR`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db.models import Count, DecimalField, F, Min, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.http import Http404

from collections_ar.models import (
    OUTSTANDING,
    ARAction,
    ARWorkflow,
    CollectionStatus,
    Customer,
    Invoice,
    Payment,
)
from collections_ar.people import SPECIALIST_ROLES
from sodium.models import ContentBlock, Membership, User
from sodium.roles import Perm, role_can


def _require(membership: Membership, perm: str) -> None:
    if membership is None or not role_can(membership.role, perm):
        raise PermissionDenied("Your role does not allow this.")


def sees_every_customer(membership: Membership) -> bool:
    """Return whether the member sees all the practice's customers (not only their own)."""
    return role_can(membership.role, Perm.MANAGE_AR)


def customers_for_user(membership: Membership) -> QuerySet[Customer]:
    """Return the customers the member may see: all of them, or an AR specialist's own."""
    _require(membership, Perm.WORK_AR)
    customers = Customer.objects.filter(practice=membership.practice_id)
    if not sees_every_customer(membership):
        customers = customers.filter(specialist=membership.user_id)
    return customers


@dataclasses.dataclass
class CustomerRow:
    customer: Customer
    open_invoices: int
    balance: Decimal
    oldest_overdue_days: int | None


def customers_with_open_balance(membership: Membership, today: dt.date) -> list[CustomerRow]:
    """Return the member's customers that owe money, most overdue first (one query)."""
    return customer_rows(open_balance_customers(membership, today), today)


def open_balance_customers(membership: Membership, today: dt.date) -> QuerySet[Customer]:
    """The member's customers that owe money, most overdue first, annotated with their open
    invoices (`n_open`), balance (`open_balance`) and oldest overdue due date (`oldest_due`);
    a queryset, to paginate."""
    outstanding = Q(invoices__status__in=OUTSTANDING)
    money = DecimalField(max_digits=14, decimal_places=2)
    return (
        customers_for_user(membership)
        .select_related("client", "specialist")
        .annotate(
            n_open=Count("invoices", filter=outstanding),
            open_balance=Coalesce(
                Sum(F("invoices__total") - F("invoices__amount_paid"), filter=outstanding),
                Value(Decimal("0.00")),
                output_field=money,
            ),
            oldest_due=Min(
                "invoices__due_date", filter=outstanding & Q(invoices__due_date__lt=today)
            ),
        )
        .filter(n_open__gt=0)
        .order_by(F("oldest_due").asc(nulls_last=True), "client__name", "pk")
    )


def customer_rows(customers: Iterable[Customer], today: dt.date) -> list[CustomerRow]:
    """Return a row per customer of `open_balance_customers`."""
    return [
        CustomerRow(
            customer=c,
            open_invoices=c.n_open,
            balance=c.open_balance,
            oldest_overdue_days=(today - c.oldest_due).days if c.oldest_due else None,
        )
        for c in customers
    ]


def get_customer_for_user(membership: Membership, customer_id: int) -> Customer:
    """Return the customer if the member may see it; Http404 otherwise."""
    customer = (
        customers_for_user(membership)
        .select_related("client", "specialist", "contact", "workflow")
        .filter(pk=customer_id)
        .first()
    )
    if customer is None:
        raise Http404("No such customer.")
    return customer


def get_invoice_for_user(membership: Membership, invoice_id: int) -> Invoice:
    """Return the invoice if the member may see its customer; Http404 otherwise."""
    invoice = (
        Invoice.objects.filter(
            practice=membership.practice_id, customer__in=customers_for_user(membership)
        )
        .select_related("customer__client", "collection_status")
        .filter(pk=invoice_id)
        .first()
    )
    if invoice is None:
        raise Http404("No such invoice.")
    return invoice


def invoices_of(customer: Customer) -> list[Invoice]:
    """Return the customer's invoices, by due date, with their collection statuses."""
    return list(
        Invoice.objects.filter(practice=customer.practice_id, customer=customer)
        .select_related("collection_status")
        .order_by("due_date", "id")
    )


def payments_of(customer: Customer) -> list[Payment]:
    """Return the payments on the customer's invoices, newest first."""
    return list(
        Payment.objects.filter(practice=customer.practice_id, invoice__customer=customer)
        .select_related("invoice")
        .order_by("-date", "-id")
    )


def statuses_for_user(membership: Membership) -> list[CollectionStatus]:
    """Return the practice's collection statuses in order (any AR member may read them)."""
    _require(membership, Perm.WORK_AR)
    return list(
        CollectionStatus.objects.filter(practice=membership.practice_id).select_related(
            "alert_user"
        )
    )


def statuses_with_use(membership: Membership) -> list[CollectionStatus]:
    """Return the statuses in order with `n_invoices` (managers only)."""
    _require(membership, Perm.MANAGE_AR)
    return list(
        CollectionStatus.objects.filter(practice=membership.practice_id)
        .select_related("alert_user")
        .annotate(n_invoices=Count("invoices"))
        .order_by("position", "id")
    )


def get_status_for_user(membership: Membership, status_id: int) -> CollectionStatus:
    """Return a collection status to change (managers only); Http404 for another practice's."""
    _require(membership, Perm.MANAGE_AR)
    status = CollectionStatus.objects.filter(practice=membership.practice_id, pk=status_id).first()
    if status is None:
        raise Http404("No such status.")
    return status


def _members(membership: Membership, roles) -> list[User]:
    return [
        m.user
        for m in Membership.objects.filter(practice=membership.practice_id, role__in=roles)
        .select_related("user")
        .order_by("user__full_name", "user__email")
    ]


def specialists_for(membership: Membership) -> list[User]:
    """Return the members who may be a customer's AR specialist."""
    return _members(membership, SPECIALIST_ROLES)


def alert_managers_for(membership: Membership) -> list[User]:
    """Return the members a collection status may alert (those who manage AR)."""
    from sodium.roles import PERMISSIONS

    return _members(membership, PERMISSIONS[Perm.MANAGE_AR])


# --- AR workflows (managers only) -------------------------------------------------------------

PREVIEW_CUSTOMERS = 200  # customers offered in "Preview for"; any other by its id


def workflows_for_user(membership: Membership) -> list[ARWorkflow]:
    """Return the practice's AR workflows with `n_actions` and `n_customers` (one query)."""
    _require(membership, Perm.MANAGE_AR)
    return list(
        ARWorkflow.objects.filter(practice=membership.practice_id)
        .select_related("continue_with")
        .annotate(
            n_actions=Count("actions", distinct=True),
            n_customers=Count("customers", distinct=True),
        )
        .order_by("name", "id")
    )


def get_workflow_for_user(membership: Membership, workflow_id: int) -> ARWorkflow:
    """Return one of the practice's workflows to build (managers only); Http404 otherwise."""
    _require(membership, Perm.MANAGE_AR)
    workflow = (
        ARWorkflow.objects.filter(practice=membership.practice_id, pk=workflow_id)
        .select_related("continue_with")
        .first()
    )
    if workflow is None:
        raise Http404("No such workflow.")
    return workflow


def actions_of(workflow: ARWorkflow) -> list[ARAction]:
    """Return the workflow's actions in order, with what they name."""
    return list(
        ARAction.objects.filter(practice=workflow.practice_id, workflow=workflow)
        .select_related("content_block", "collection_status", "user")
        .order_by("position", "id")
    )


def get_action_for_user(membership: Membership, workflow: ARWorkflow, action_id: int) -> ARAction:
    """Return one action of `workflow` (managers only); Http404 otherwise."""
    _require(membership, Perm.MANAGE_AR)
    action = (
        ARAction.objects.filter(practice=membership.practice_id, workflow=workflow, pk=action_id)
        .select_related("content_block", "collection_status", "user")
        .first()
    )
    if action is None:
        raise Http404("No such action.")
    return action


def content_blocks_for(membership: Membership) -> list[ContentBlock]:
    """Return the practice's own content blocks (email and SMS), by name."""
    return list(
        ContentBlock.objects.filter(practice=membership.practice_id, system_key="").order_by("name")
    )


def preview_customers(membership: Membership) -> list[Customer]:
    """Return customers to preview a workflow for: those owing money first, then the rest."""
    _require(membership, Perm.MANAGE_AR)
    return list(
        Customer.objects.filter(practice=membership.practice_id)
        .select_related("client")
        .annotate(n_open=Count("invoices", filter=Q(invoices__status__in=OUTSTANDING)))
        .order_by(F("n_open").desc(), "client__name")[:PREVIEW_CUSTOMERS]
    )


def get_preview_customer(membership: Membership, customer_id: int | None) -> Customer | None:
    """Return the customer to preview for (None when none is chosen or it is not ours)."""
    _require(membership, Perm.MANAGE_AR)
    if customer_id is None:
        return None
    return (
        Customer.objects.filter(practice=membership.practice_id, pk=customer_id)
        .select_related("client", "specialist", "contact", "practice")
        .first()
    )
