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
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db.models import (
    Case,
    Count,
    DateField,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    When,
)
from django.http import Http404
from django.utils import timezone

from collections_ar.models import (
    OUTSTANDING,
    ActionRun,
    ARAction,
    ARSettings,
    ARWorkflow,
    Assignment,
    CollectionStatus,
    Customer,
    Invoice,
    Payment,
)
from collections_ar.people import SPECIALIST_ROLES
from sodium.models import ActivityEvent, ContentBlock, Membership, User
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


AGE_BANDS: list[tuple[str, str]] = [
    ("current", "Current"),
    ("1-30", "1–30 days"),
    ("31-60", "31–60 days"),
    ("61-90", "61–90 days"),
    ("90+", "Over 90 days"),
]
# Each band's overdue days, inclusive (None: no upper end); "current" is nothing overdue.
_BAND_DAYS = {"1-30": (1, 30), "31-60": (31, 60), "61-90": (61, 90), "90+": (91, None)}
CENTS = Decimal("0.01")
NONE = "none"  # the filter value of "no specialist" and "no workflow"


def age_band(oldest_overdue_days: int | None) -> str:
    """Return the age band of a customer whose oldest open invoice is so many days overdue."""
    if not oldest_overdue_days or oldest_overdue_days <= 0:
        return "current"
    for key, (low, high) in _BAND_DAYS.items():
        if oldest_overdue_days >= low and (high is None or oldest_overdue_days <= high):
            return key
    return "current"  # pragma: no cover - the bands cover every positive number


@dataclasses.dataclass(frozen=True)
class CustomerFilter:
    """The customers tab's filters: "" is any; `NONE` is nobody / no workflow."""

    specialist: str = ""  # a user id, NONE or ""
    workflow: str = ""  # a workflow id, NONE or ""
    status: str = ""  # a collection status id or ""
    band: str = ""  # an AGE_BANDS key or ""

    @property
    def is_set(self) -> bool:
        return any((self.specialist, self.workflow, self.status, self.band))

    def as_params(self) -> dict[str, str]:
        """Return the filters as the GET parameters that give them (the set ones only)."""
        return {k: v for k, v in dataclasses.asdict(self).items() if v}


@dataclasses.dataclass
class CustomerRow:
    customer: Customer
    open_invoices: int
    balance: Decimal
    oldest_overdue_days: int | None
    paused: bool = False

    @property
    def band(self) -> str:
        return age_band(self.oldest_overdue_days)

    @property
    def band_label(self) -> str:
        return dict(AGE_BANDS)[self.band]


def _filtered(customers: QuerySet[Customer], filters: CustomerFilter, today: dt.date):
    if filters.specialist == NONE:
        customers = customers.filter(specialist__isnull=True)
    elif filters.specialist:
        customers = customers.filter(specialist=filters.specialist)
    if filters.workflow == NONE:
        customers = customers.filter(workflow__isnull=True)
    elif filters.workflow:
        customers = customers.filter(workflow=filters.workflow)
    if filters.status:
        # A subquery, not a join: the balance sums below must see every open invoice.
        customers = customers.filter(
            pk__in=Invoice.objects.filter(
                status__in=OUTSTANDING, collection_status=filters.status
            ).values("customer")
        )
    return customers


def _band_filter(rows: QuerySet[Customer], band: str, today: dt.date) -> QuerySet[Customer]:
    if band == "current":
        return rows.filter(oldest_open_due__gte=today)
    if band in _BAND_DAYS:
        low, high = _BAND_DAYS[band]
        rows = rows.filter(oldest_open_due__lte=today - dt.timedelta(days=low))
        if high is not None:
            rows = rows.filter(oldest_open_due__gte=today - dt.timedelta(days=high))
    return rows


def customer_queryset(
    membership: Membership, today: dt.date, filters: CustomerFilter | None = None
) -> QuerySet[Customer]:
    """Return the member's customers that owe money and match `filters`, most overdue first,
    annotated with open invoices (`n_open`), balance (`open_balance`), oldest overdue due
    date (`oldest_due`) and whether its workflow is paused (`is_paused`); a queryset, to
    paginate. The totals are the customer's stored ones (`engine.refresh_totals`): one
    indexed query, not a sum over every invoice."""
    filters = filters or CustomerFilter()
    rows = (
        _filtered(customers_for_user(membership), filters, today)
        .filter(open_invoices__gt=0)
        .select_related("client", "specialist", "workflow", "contact")
        .annotate(
            n_open=F("open_invoices"),
            oldest_due=Case(
                When(oldest_open_due__lt=today, then=F("oldest_open_due")),
                default=None,
                output_field=DateField(),
            ),
            is_paused=Exists(
                Assignment.objects.filter(customer=OuterRef("pk"), state=Assignment.State.PAUSED)
            ),
        )
        .order_by("oldest_open_due", "pk")
    )
    return _band_filter(rows, filters.band, today)


def rows_of(customers, today: dt.date) -> list[CustomerRow]:
    """Return `customer_queryset` rows (or one page of them) as CustomerRows."""
    return [
        CustomerRow(
            customer=c,
            open_invoices=c.n_open,
            balance=Decimal(c.open_balance).quantize(CENTS),
            oldest_overdue_days=(today - c.oldest_due).days if c.oldest_due else None,
            paused=c.is_paused,
        )
        for c in customers
    ]


def customer_rows(
    membership: Membership, today: dt.date, filters: CustomerFilter | None = None
) -> list[CustomerRow]:
    """Return every row of `customer_queryset` (the CSV, "all that match"; one query)."""
    return rows_of(customer_queryset(membership, today, filters), today)


def customers_to_assign(
    membership: Membership, ids: list[int], today: dt.date, filters: CustomerFilter | None
) -> list[Customer]:
    """Return the customers a manager chose to assign: those `ids`, or with `filters` every
    customer the filtered tab lists (managers only; another practice's ids are left out)."""
    _require(membership, Perm.MANAGE_AR)
    if filters is not None:
        return [row.customer for row in customer_rows(membership, today, filters)]
    return list(
        customers_for_user(membership)
        .filter(pk__in=ids)
        .select_related("client", "contact", "workflow")
        .order_by("client__name", "pk")
    )


def on_workflows_for(membership: Membership) -> list[ARWorkflow]:
    """Return the practice's ON workflows, the ones that may be assigned (managers only)."""
    _require(membership, Perm.MANAGE_AR)
    return list(
        ARWorkflow.objects.filter(practice=membership.practice_id, state=ARWorkflow.State.ON)
    )


def workflow_choices_for(membership: Membership) -> list[ARWorkflow]:
    """Return every workflow of the practice, to filter customers by (any AR member)."""
    _require(membership, Perm.WORK_AR)
    return list(ARWorkflow.objects.filter(practice=membership.practice_id))


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


# --- a customer's workflow: the live assignment, its timeline, and the history ---------------

RESUME_LABELS = {
    ARSettings.Resume.SHIFT: "Resume — later actions move by the pause",
    ARSettings.Resume.SKIP: "Resume — skip what fell due",
}
HISTORY_LIMIT = 100
RS = ActionRun.State
UPCOMING = (RS.PENDING, RS.HELD)


def get_live_assignment_for_user(membership: Membership, customer_id: int) -> Assignment:
    """Return the live (active or paused) assignment of a customer the member may see.

    Managers and the customer's own AR specialist get it; Http404 for a customer they may
    not see or one on no workflow. Whether they may pause, resume or unassign is the view's
    permission (`Perm.WORK_AR` / `Perm.MANAGE_AR`).
    """
    customer = get_customer_for_user(membership, customer_id)
    assignment = (
        Assignment.objects.filter(
            practice=membership.practice_id, customer=customer, state__in=Assignment.LIVE
        )
        .select_related("workflow", "customer__client")
        .first()
    )
    if assignment is None:
        raise Http404("This customer is on no workflow.")
    return assignment


@dataclasses.dataclass
class WorkflowCard:
    """The customer page's workflow: the live assignment (or None) and its runs by date."""

    assignment: Assignment | None
    runs: list[ActionRun]
    resume_rule: str

    def _left_out(self, run: ActionRun) -> bool:
        return (
            run.state == RS.SKIPPED
            and self.assignment is not None
            and timezone.localtime(run.due_at).date() < self.assignment.assigned_on
        )

    @property
    def left_out(self) -> list[ActionRun]:
        """Return the due-date runs skipped at once: their dates were before the assignment."""
        return [r for r in self.runs if self._left_out(r)]

    @property
    def past(self) -> list[ActionRun]:
        """Return the runs already over (done, skipped, failed, cancelled), oldest first,
        without those left out."""
        return [r for r in self.runs if r.state not in UPCOMING and not self._left_out(r)]

    @property
    def upcoming(self) -> list[ActionRun]:
        """Return the runs still to come (pending, or held while paused), soonest first."""
        return [r for r in self.runs if r.state in UPCOMING]

    @property
    def next_run(self) -> ActionRun | None:
        return next(iter(self.upcoming), None)

    @property
    def resume_label(self) -> str:
        return RESUME_LABELS.get(self.resume_rule, RESUME_LABELS[ARSettings.Resume.SHIFT])


def workflow_card_for(customer: Customer) -> WorkflowCard:
    """Return the customer's live assignment with every one of its runs (three queries)."""
    assignment = (
        Assignment.objects.filter(
            practice=customer.practice_id, customer=customer, state__in=Assignment.LIVE
        )
        .select_related("workflow", "assigned_by")
        .first()
    )
    runs: list[ActionRun] = []
    if assignment is not None:
        runs = list(
            ActionRun.objects.filter(practice=customer.practice_id, assignment=assignment)
            .select_related("action", "invoice", "message")
            .order_by("due_at", "position", "id")
        )
    rule = (
        ARSettings.objects.filter(practice=customer.practice_id)
        .values_list("resume", flat=True)
        .first()
    ) or ARSettings.Resume.SHIFT
    return WorkflowCard(assignment=assignment, runs=runs, resume_rule=rule)


@dataclasses.dataclass
class HistoryEntry:
    """One line of a customer's AR history."""

    at: dt.datetime
    kind: str  # "run", "payment" or "activity"
    text: str
    detail: str = ""
    run: ActionRun | None = None
    payment: Payment | None = None
    who: str = ""


def history_of(customer: Customer, limit: int = HISTORY_LIMIT) -> list[HistoryEntry]:
    """Return the customer's AR history, newest first, at most `limit` lines (three queries).

    Every run done, skipped or failed (on any of its assignments), every payment, and the
    practice's "ar." activity about the client. The activity rows the runs and payments
    already stand for ("ar.run.*", "ar.invoice.payment") are left out so nothing shows twice.
    """
    runs = (
        ActionRun.objects.filter(
            practice=customer.practice_id,
            assignment__customer=customer,
            state__in=(RS.DONE, RS.SKIPPED, RS.FAILED),
        )
        .select_related("assignment__workflow", "invoice", "message")
        .order_by(F("done_at").desc(nulls_last=True), "-id")[:limit]
    )
    payments = (
        Payment.objects.filter(practice=customer.practice_id, invoice__customer=customer)
        .select_related("invoice")
        .order_by("-created_at", "-id")[:limit]
    )
    events = (
        ActivityEvent.objects.filter(
            practice=customer.practice_id, client=customer.client_id, verb__startswith="ar."
        )
        .exclude(verb__startswith="ar.run.")
        .exclude(verb="ar.invoice.payment")
        .select_related("actor")
        .order_by("-created_at", "-id")[:limit]
    )
    entries = [
        HistoryEntry(
            at=r.done_at or r.due_at,
            kind="run",
            text=ARAction.Kind(r.kind).label
            + (f" · {r.invoice.number}" if r.invoice else "")
            + f" ({r.assignment.workflow.name})",
            detail=r.detail,
            run=r,
        )
        for r in runs
    ]
    entries += [HistoryEntry(at=p.created_at, kind="payment", text="", payment=p) for p in payments]
    entries += [
        HistoryEntry(
            at=e.created_at,
            kind="activity",
            text=e.summary,
            who=str(e.actor) if e.actor else e.actor_label,
        )
        for e in events
    ]
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:limit]
