"""Data health: the practice's clients by score, one client's checks and findings, the rows
a finding names, running the checks, dismissing and restoring findings."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from checks import queries, runs
from checks.rules import CHECKS
from checks.scoring import __doc__ as SCORING_DOC
from sodium.roles import Perm, role_can
from sodium.statemachine import InvalidTransition
from sodium.tenancy import role_required
from sodium.views.common import HtmxHttpRequest

PAGE = "checks/client_health.html"
CHECKS_BY_KEY = {check.key: check for check in CHECKS}
BAND_WORDS = {"good": "Good", "attention": "Needs attention", "poor": "Poor"}


def _formula() -> str:
    """The scoring formula in plain words, from checks.scoring's docstring."""
    text = SCORING_DOC.split("The formula, in plain words (the page shows this):", 1)[-1]
    return " ".join(text.split("Bands:", 1)[0].split())


@require_GET
@role_required(Perm.VIEW_PRACTICE)
def health_list(request: HtmxHttpRequest) -> HttpResponse:
    clients = queries.clients_by_score(request.practice)
    checked = [c for c in clients if c.score is not None]
    bands = {band: sum(1 for c in checked if c.band == band) for band in BAND_WORDS}
    for c in checked:
        c.band_label = BAND_WORDS.get(c.band, "")
    # One reverse() for the page: each row adds its client's id.
    health_url = reverse("checks:client-health", args=[0]).removesuffix("0/")
    return render(
        request,
        "checks/health_list.html",
        {"clients": clients, "checked": len(checked), "bands": bands, "health_url": health_url},
    )


def _findings_url(client) -> str:
    """The address a finding's own ones start with (its id and an action follow): one
    reverse() for the page rather than three per finding."""
    return reverse("checks:finding-detail", args=[client.pk, 0]).removesuffix("0/")


def _page_context(request: HtmxHttpRequest, client) -> dict:
    health = queries.client_health(request.practice, client)
    membership = getattr(request, "membership", None)
    can_work = role_can(getattr(membership, "role", None), Perm.WORK_CHECKS)
    context = {
        "client": client,
        "health": health,
        "points": queries.score_points(health.history),
        "band_words": BAND_WORDS,
        "formula": _formula(),
        "can_work": can_work,
        "findings_url": _findings_url(client),
    }
    if can_work:
        context["import_url"] = reverse("checks:client-import", args=[client.pk])
    return context


@require_GET
@vary_on_headers("HX-Request")
@role_required(Perm.VIEW_PRACTICE)
def client_health(request: HtmxHttpRequest, client_id: int) -> HttpResponse:
    """The client's data-health page; for htmx, the run's progress (the partial polls it).

    Once no run is in progress the poll answers with HX-Refresh, so the page reloads with
    the run's results (or its error).
    """
    client = queries.get_client(request.practice, client_id)
    context = _page_context(request, client)
    if request.htmx and not request.htmx.history_restore_request:
        response = render(request, f"{PAGE}#check-run", context)
        if context["health"].current_run is None:
            response["HX-Refresh"] = "true"
        return response
    return render(request, PAGE, context)


@require_POST
@role_required(Perm.WORK_CHECKS)
def run_now(request: HtmxHttpRequest, client_id: int) -> HttpResponse:
    """Queue a run of the checks (or find the one in progress) and show its progress."""
    client = queries.get_client(request.practice, client_id)
    runs.request_check_run(client, actor=request.user)
    if request.htmx:
        return render(request, f"{PAGE}#check-run", _page_context(request, client))
    return redirect("checks:client-health", client_id=client.pk)


def _finding_changed(request: HtmxHttpRequest, client) -> HttpResponse:
    if request.htmx:
        return render(request, f"{PAGE}#health-body", _page_context(request, client))
    back = request.POST.get("next", "")
    check_page = reverse("checks:client-check", args=[client.pk, "x"]).removesuffix("x/")
    run_page = reverse("checks:flow-run", args=[0]).removesuffix("0/")
    if back.startswith((check_page, run_page)) and url_has_allowed_host_and_scheme(
        back, allowed_hosts=None
    ):
        return redirect(back)  # one check's own page or a flow run's, where the finding was
    return redirect("checks:client-health", client_id=client.pk)


@require_GET
@role_required(Perm.VIEW_PRACTICE)
def client_check(request: HtmxHttpRequest, client_id: int, check_key: str) -> HttpResponse:
    """One check's findings for a client, a page at a time: open ones, or ?status=dismissed."""
    client = queries.get_client(request.practice, client_id)
    check = CHECKS_BY_KEY.get(check_key)
    if check is None:
        raise Http404("No such check")
    status = "dismissed" if request.GET.get("status") == "dismissed" else "open"
    findings = queries.check_findings(request.practice, client, check.key, status)
    page = Paginator(findings, queries.CHECK_PAGE_SIZE).get_page(request.GET.get("page"))
    membership = getattr(request, "membership", None)
    return render(
        request,
        "checks/check_findings.html",
        {
            "client": client,
            "check": check,
            "status": status,
            "page": page,
            "can_work": role_can(getattr(membership, "role", None), Perm.WORK_CHECKS),
            "next": request.get_full_path(),
            "findings_url": _findings_url(client),
        },
    )


@require_POST
@role_required(Perm.WORK_CHECKS)
def finding_dismiss(request: HtmxHttpRequest, client_id: int, finding_id: int) -> HttpResponse:
    client = queries.get_client(request.practice, client_id)
    finding = queries.get_finding(request.practice, client, finding_id)
    try:
        runs.dismiss_finding(finding, actor=request.user, reason=request.POST.get("reason", ""))
    except runs.FindingError as exc:
        messages.error(request, str(exc))
    except InvalidTransition:
        messages.error(request, "That finding is no longer open.")
    else:
        messages.success(request, f"Dismissed: {finding.title}")
    return _finding_changed(request, client)


@require_POST
@role_required(Perm.WORK_CHECKS)
def finding_restore(request: HtmxHttpRequest, client_id: int, finding_id: int) -> HttpResponse:
    client = queries.get_client(request.practice, client_id)
    finding = queries.get_finding(request.practice, client, finding_id)
    try:
        runs.restore_finding(finding, actor=request.user)
    except InvalidTransition:
        messages.error(request, "That finding is not dismissed.")
    else:
        messages.success(request, f"Restored: {finding.title}")
    return _finding_changed(request, client)


@require_GET
@role_required(Perm.VIEW_PRACTICE)
def finding_detail(request: HtmxHttpRequest, client_id: int, finding_id: int) -> HttpResponse:
    client = queries.get_client(request.practice, client_id)
    finding = queries.get_finding(request.practice, client, finding_id)
    return render(
        request,
        "checks/finding_detail.html",
        {
            "client": client,
            "finding": finding,
            "tables": queries.finding_rows(request.practice, client, finding),
            "rows_shown": queries.ROWS_SHOWN,
        },
    )


# --- the client page's panel ---------------------------------------------------------------


def client_panel(request: HtmxHttpRequest, client) -> tuple[str, dict] | None:
    """The client page's "Data health" card: score, band, trend and open findings."""
    health = queries.client_health(request.practice, client)
    return "checks/_health_panel.html", {
        "client": client,
        "health": health,
        "points": queries.score_points(health.history, width=160, height=36),
        "band_words": BAND_WORDS,
    }
