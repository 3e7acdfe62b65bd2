"""Reads for the data-health pages: clients by score, one client's runs, findings and rows.

Every function takes the practice and filters by it (tenant scoping); object lookups answer
404 for another practice's ids. Each page runs a fixed number of queries whatever the rows.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    Min,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.functions import RowNumber
from django.shortcuts import get_object_or_404

from checks.models import (
    BankStatementLine,
    CheckRun,
    CustomCheck,
    Finding,
    HealthScore,
    LedgerAccount,
    LedgerContact,
    LedgerImport,
    Transaction,
)
from checks.rules import CHECKS
from sodium.models import Client, Practice

HISTORY = 12  # runs shown in the score's chart
SEVERITY_ORDER = {"red": 0, "amber": 1, "info": 2}
_SEVERITY_OF_RANK = {rank: severity for severity, rank in SEVERITY_ORDER.items()}
# A finding's severity as a number to sort by, red first.
_RANK = Case(
    *[When(severity=severity, then=Value(rank)) for severity, rank in SEVERITY_ORDER.items()],
    default=Value(9),
    output_field=IntegerField(),
)
SHOWN_PER_CHECK = 10  # findings of each status a client's page shows per check
CHECK_PAGE_SIZE = 50  # findings per page of one check's own page
# The models a finding's `rows` may name, their page labels and what the table shows.
ROW_MODELS = {
    "checks.transaction": (Transaction, "Transactions"),
    "checks.ledgeraccount": (LedgerAccount, "Accounts"),
    "checks.ledgercontact": (LedgerContact, "Contacts"),
    "checks.bankstatementline": (BankStatementLine, "Bank statement lines"),
}
ROWS_SHOWN = 200


def get_client(practice: Practice, client_id: int) -> Client:
    return get_object_or_404(Client.objects.filter(practice=practice), pk=client_id)


def get_finding(practice: Practice, client: Client, finding_id: int) -> Finding:
    return get_object_or_404(
        Finding.objects.filter(practice=practice, client=client), pk=finding_id
    )


def get_custom_check(practice: Practice, check_id: int) -> CustomCheck:
    return get_object_or_404(CustomCheck.objects.filter(practice=practice), pk=check_id)


def custom_checks(practice: Practice) -> list[CustomCheck]:
    """Return the practice's custom checks, in use first, then archived, each by name."""
    return list(
        CustomCheck.objects.filter(practice=practice)
        .select_related("created_by")
        .order_by("archived", "name")
    )


def clients_by_score(practice: Practice) -> list[Client]:
    """Return the active clients, worst score first, each with `.score`, `.band`, `.open`
    findings and `.checked_at`; clients never checked come last (two queries)."""
    latest = HealthScore.objects.filter(practice=practice, client=OuterRef("pk")).order_by(
        "-recorded_at", "-pk"
    )
    clients = list(
        Client.objects.filter(practice=practice, status=Client.Status.ACTIVE)
        .annotate(
            score=Subquery(latest.values("score")[:1]),
            band=Subquery(latest.values("band")[:1]),
            checked_at=Subquery(latest.values("recorded_at")[:1]),
            open=Count("findings", filter=Q(findings__status=Finding.Status.OPEN)),
        )
        .order_by("name")
    )
    return sorted(clients, key=lambda c: (c.score is None, c.score or 0, c.name))


@dataclass
class CheckSection:
    """One check on a client's page: its declaration, open findings and counts."""

    key: str
    name: str
    description: str
    weight: int
    open: list[Finding] = field(default_factory=list)  # the first SHOWN_PER_CHECK, worst first
    dismissed: list[Finding] = field(default_factory=list)  # the first SHOWN_PER_CHECK
    open_count: int = 0
    dismissed_count: int = 0
    worst: str = ""  # the worst open severity ("red", "amber", "info"), "" when none

    @property
    def more_open(self) -> int:
        return self.open_count - len(self.open)

    @property
    def more_dismissed(self) -> int:
        return self.dismissed_count - len(self.dismissed)


@dataclass
class ClientHealth:
    last_run: CheckRun | None  # the latest done run
    history: list[HealthScore]
    sections: list[CheckSection]
    last_import: LedgerImport | None
    has_ledger: bool
    current_run: CheckRun | None = None  # queued or running: the page shows its progress
    failed_run: CheckRun | None = None  # the latest run, when it failed: the page shows why

    @property
    def open_count(self) -> int:
        return sum(s.open_count for s in self.sections)

    @property
    def dismissed_count(self) -> int:
        return sum(s.dismissed_count for s in self.sections)

    @property
    def with_findings(self) -> list[CheckSection]:
        """The checks with open or dismissed findings, in the checks' order."""
        return [s for s in self.sections if s.open_count or s.dismissed_count]

    @property
    def clear(self) -> list[CheckSection]:
        """The checks with nothing open or dismissed."""
        return [s for s in self.sections if not (s.open_count or s.dismissed_count)]


def client_health(practice: Practice, client: Client) -> ClientHealth:
    """Return what the client's data-health page shows (a fixed number of queries): the
    latest done run, a run queued or running, the latest run if it failed, the score's
    history, the findings per check, the last import."""
    history = list(
        HealthScore.objects.filter(practice=practice, client=client).order_by(
            "-recorded_at", "-pk"
        )[:HISTORY]
    )[::-1]
    runs = CheckRun.objects.filter(practice=practice, client=client)
    last_run = (
        runs.filter(status=CheckRun.Status.DONE)
        .select_related("ran_by")
        .order_by("-started_at", "-pk")
        .first()
    )
    # The latest run not done: one in progress, or a failure newer than the last done run.
    # (A failure is never newer than a run in progress: a run is queued only when none is.)
    other = runs.exclude(status=CheckRun.Status.DONE).order_by("-pk").first()
    current_run = failed_run = None
    if other is not None and other.status != CheckRun.Status.FAILED:
        current_run = other
    elif other is not None and (last_run is None or other.finished_at > last_run.finished_at):
        failed_run = other
    shown_statuses = [Finding.Status.OPEN, Finding.Status.DISMISSED]
    mine = Finding.objects.filter(practice=practice, client=client, status__in=shown_statuses)
    counts: dict[tuple[str, str], int] = {}
    worst: dict[str, int] = {}
    for row in mine.values("check_key", "status").annotate(n=Count("id"), worst=Min(_RANK)):
        counts[row["check_key"], row["status"]] = row["n"]
        if row["status"] == Finding.Status.OPEN:
            worst[row["check_key"]] = row["worst"]
    # The first few of each check and status, worst first: a check may hold hundreds.
    by_check: dict[str, dict[str, list[Finding]]] = defaultdict(lambda: defaultdict(list))
    shown = (
        mine.annotate(
            place=Window(
                RowNumber(),
                partition_by=[F("check_key"), F("status")],
                order_by=[_RANK.asc(), F("id").asc()],
            )
        )
        .filter(place__lte=SHOWN_PER_CHECK)
        .select_related("dismissed_by")
        .order_by("check_key", "status", "place")
    )
    for finding in shown:
        by_check[finding.check_key][finding.status].append(finding)
    sections = []
    for check in CHECKS:
        found = by_check.get(check.key, {})
        sections.append(
            CheckSection(
                key=check.key,
                name=check.name,
                description=check.description,
                weight=check.weight,
                open=found.get(Finding.Status.OPEN, []),
                dismissed=found.get(Finding.Status.DISMISSED, []),
                open_count=counts.get((check.key, Finding.Status.OPEN), 0),
                dismissed_count=counts.get((check.key, Finding.Status.DISMISSED), 0),
                worst=_SEVERITY_OF_RANK.get(worst.get(check.key), ""),
            )
        )
    last_import = (
        LedgerImport.objects.filter(
            practice=practice, client=client, status=LedgerImport.Status.DONE
        )
        .order_by("-finished_at", "-pk")
        .first()
    )
    has_ledger = LedgerAccount.objects.filter(practice=practice, client=client).exists()
    return ClientHealth(
        last_run, history, sections, last_import, has_ledger, current_run, failed_run
    )


def check_findings(practice: Practice, client: Client, check_key: str, status: str):
    """Return one check's findings of a client in one status, worst first (a queryset to page)."""
    return (
        Finding.objects.filter(practice=practice, client=client, check_key=check_key, status=status)
        .select_related("dismissed_by")
        .annotate(rank=_RANK)
        .order_by("rank", "id")
    )


def finding_rows(
    practice: Practice, client: Client, finding: Finding
) -> list[tuple[str, str, list]]:
    """Return the rows a finding names, per model: (model label, heading, rows)."""
    tables = []
    for label, ids in (finding.rows or {}).items():
        if label not in ROW_MODELS or not isinstance(ids, list):
            continue
        model, heading = ROW_MODELS[label]
        wanted = [i for i in ids if isinstance(i, int)][:ROWS_SHOWN]
        rows = model.objects.filter(practice=practice, client=client, pk__in=wanted)
        if model is Transaction:
            rows = rows.select_related("contact").order_by("date", "pk")
        elif model is BankStatementLine:
            rows = rows.select_related("bank_account").order_by("date", "pk")
        tables.append((label, heading, list(rows)))
        if finding.check_key == "bank_reconciliation" and model is LedgerAccount:
            # The finding names the account; its rows are the account's unreconciled lines.
            lines = (
                BankStatementLine.objects.filter(
                    practice=practice, client=client, bank_account_id__in=wanted, reconciled=False
                )
                .select_related("bank_account")
                .order_by("date", "pk")[:ROWS_SHOWN]
            )
            tables.append(("checks.bankstatementline", "Unreconciled statement lines", list(lines)))
    return tables


def score_points(history: list[HealthScore], width: int = 240, height: int = 60) -> str:
    """Return an SVG polyline's points for the score history (0 at the bottom, 100 at the top).

    One run draws a level line across the chart, so the first score shows against its band.
    """
    if not history:
        return ""
    if len(history) == 1:
        history = [history[0], history[0]]
    step = width / max(1, len(history) - 1)
    return " ".join(
        f"{round(i * step, 1)},{round(height - height * h.score / 100, 1)}"
        for i, h in enumerate(history)
    )


# --- ledger imports --------------------------------------------------------------------------


def get_import(practice: Practice, client: Client, import_id: int) -> LedgerImport:
    """Return the client's import `import_id`; Http404 for another client's or practice's."""
    return get_object_or_404(
        LedgerImport.objects.filter(practice=practice, client=client).select_related(
            "bank_account", "created_by"
        ),
        pk=import_id,
    )


def imports_for_client(practice: Practice, client: Client, limit: int = 20) -> list[LedgerImport]:
    """Return the client's latest imports, newest first, with who uploaded each (one query)."""
    return list(
        LedgerImport.objects.filter(practice=practice, client=client)
        .select_related("created_by")
        .order_by("-created_at", "-pk")[:limit]
    )


def bank_accounts_for_client(practice: Practice, client: Client):
    """Return the client's bank accounts (not archived), by code: a bank statement's choices."""
    return LedgerAccount.objects.filter(
        practice=practice, client=client, type=LedgerAccount.Type.BANK, archived=False
    ).order_by("code")
