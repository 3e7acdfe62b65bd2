"""Reads for the data-health pages: clients by score, one client's runs, findings and rows.

Every function takes the practice and filters by it (tenant scoping); object lookups answer
404 for another practice's ids. Each page runs a fixed number of queries whatever the rows.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, OuterRef, Q, Subquery
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
    open: list[Finding] = field(default_factory=list)
    dismissed: list[Finding] = field(default_factory=list)

    @property
    def worst(self) -> str:
        return min((f.severity for f in self.open), key=SEVERITY_ORDER.get, default="")


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
        return sum(len(s.open) for s in self.sections)

    @property
    def dismissed_count(self) -> int:
        return sum(len(s.dismissed) for s in self.sections)


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
    by_check: dict[str, dict[str, list[Finding]]] = defaultdict(lambda: defaultdict(list))
    findings = (
        Finding.objects.filter(
            practice=practice,
            client=client,
            status__in=[Finding.Status.OPEN, Finding.Status.DISMISSED],
        )
        .select_related("dismissed_by")
        .order_by("check_key", "id")
    )
    for finding in findings:
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
                open=sorted(found.get("open", []), key=lambda f: SEVERITY_ORDER[f.severity]),
                dismissed=found.get("dismissed", []),
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
