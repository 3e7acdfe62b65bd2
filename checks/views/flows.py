"""The flows dashboard (open runs overdue, due within 7 days, upcoming), the flows list, a
flow's page, and — for those who manage flows — pausing, resuming and editing a repeating
flow and deleting one of its runs."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from django.contrib import messages
from django.db.models import Q
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from checks.flows import editing, engine, making, queries
from checks.flows.cadence import Cadence, Period
from checks.forms import FlowEditForm, FlowFilterForm
from checks.models import CustomCheck, Flow, FlowRun, FlowTemplate
from checks.rules import CHECKS
from sodium.models import Client, Tag
from sodium.queries import members_of
from sodium.roles import Perm, role_can
from sodium.schedules.practice import today_for
from sodium.schedules.working_days import RULE_LABELS, Rule
from sodium.tenancy import role_required
from sodium.views.common import HtmxHttpRequest, paginate, partial, query_without_page

DASHBOARD = "checks/flows/dashboard.html"
SECTIONS = (
    ("overdue", "Overdue", "Nothing is overdue."),
    ("soon", "Due within 7 days", "Nothing is due in the next 7 days."),
    ("upcoming", "Upcoming", "No later runs yet: repeating flows add each run on its date."),
)
STATUS_TONES = {"not_started": "muted", "in_progress": "info", "in_review": "purple"}
R = FlowRun.Status
BUILTIN_NAMES = {check.key: check.name for check in CHECKS}


def _can_manage(request: HtmxHttpRequest) -> bool:
    return role_can(getattr(request.membership, "role", None), Perm.MANAGE_FLOWS)


def _page_number(value: str | None) -> int:
    return int(value) if value and value.isdigit() and 0 < int(value) < 10_000 else 1


def _filter_form(request: HtmxHttpRequest) -> FlowFilterForm:
    practice = request.practice
    form = FlowFilterForm(
        request.GET,
        members=members_of(practice).values_list("pk", "full_name"),
        templates=FlowTemplate.objects.filter(practice=practice, archived=False).values_list(
            "pk", "name"
        ),
        clients=Client.objects.filter(practice=practice, status=Client.Status.ACTIVE)
        .order_by("name")
        .values_list("pk", "name"),
        tags=Tag.objects.filter(practice=practice).order_by("name").values_list("pk", "name"),
    )
    form.is_valid()
    return form


def _run_rows(runs: list[FlowRun]) -> list[FlowRun]:
    for run in runs:
        run.period_label = Period(run.period_start, run.period_end).label
        run.tone = STATUS_TONES.get(run.status, "ok")
        if run.status == R.IN_REVIEW and run.review_stage == 2:
            run.shown_reviewer = run.second_reviewer
        else:
            run.shown_reviewer = run.reviewer
    return runs


def _dashboard_rows(rows: list[queries.RunRow]) -> list[queries.RunRow]:
    for row in rows:
        row.period_label = Period(row.period_start, row.period_end).label
        row.tone = STATUS_TONES.get(row.status, "ok")
        in_second = row.status == R.IN_REVIEW and row.review_stage == 2
        row.shown_reviewer = row.second_reviewer if in_second else row.reviewer
    return rows


def _section(request, name, title, empty, total, filters, today, params) -> dict:
    page = _page_number(request.GET.get(name))
    pages = max(1, -(-total // queries.SECTION_SIZE))
    page = min(page, pages)
    runs = queries.dashboard_section(request.practice, filters, today, name, page) if total else []

    def link(to_page: int) -> str:
        q = params.copy()
        q[name] = str(to_page)
        return "?" + q.urlencode()

    first = (page - 1) * queries.SECTION_SIZE
    return {
        "name": name,
        "title": title,
        "due_class": " text-danger" if name == "overdue" else "",
        "empty": empty,
        "total": total,
        "runs": _dashboard_rows(runs),
        "shown_from": first + 1,
        "shown_to": first + len(runs),
        "more_url": link(page + 1) if page < pages else "",
        "back_url": link(page - 1) if page > 1 else "",
        "remaining": max(0, total - first - len(runs)),
    }


@require_GET
@vary_on_headers("HX-Request")
@role_required(Perm.VIEW_PRACTICE)
def dashboard(request: HtmxHttpRequest) -> HttpResponse:
    """The open runs by due date against the practice's today, with counts and filters."""
    practice = request.practice
    form = _filter_form(request)
    chosen = form.chosen
    filters = queries.RunFilters(
        assignee_id=chosen["assignee"],
        reviewer_id=chosen["reviewer"],
        template_id=chosen["template"],
        client_id=chosen["client"],
        tag_id=chosen["tag"],
    )
    today = today_for(practice)
    month_start = dt.datetime.combine(
        today + relativedelta(day=1), dt.time.min, tzinfo=ZoneInfo(practice.time_zone)
    )
    counts = queries.dashboard_counts(practice, filters, today, month_start)
    # Filters stay in every section's "show more" link; each section keeps its own page.
    params = QueryDict(mutable=True)
    for name, value in chosen.items():
        if value:
            params[name] = str(value)
    for name, *_ in SECTIONS:
        if name in request.GET:
            params[name] = str(_page_number(request.GET.get(name)))
    # "Show more" (htmx) swaps one section: only that one is read.
    target = request.htmx.target if request.htmx else None
    wanted = [s for s in SECTIONS if f"flows-{s[0]}" == target] or SECTIONS
    sections = [
        _section(request, name, title, empty, counts[name], filters, today, params)
        for name, title, empty in wanted
    ]
    context = {
        "form": form,
        "filtered": any(chosen.values()),
        "counts": counts,
        "sections": sections,
        "today": today,
        "run_url": reverse("checks:flow-run", args=[0]).removesuffix("0/"),
        "flow_url": reverse("checks:flow-detail", args=[0]).removesuffix("0/"),
        "can_manage": _can_manage(request),
    }
    template = DASHBOARD
    if request.htmx and not request.htmx.history_restore_request:
        target = request.htmx.target or ""
        shown = next((s for s in sections if f"flows-{s['name']}" == target), None)
        if shown is not None:
            context["section"] = shown
            template += "#run-section"
        else:
            template += "#flows-body"
    else:  # the whole page: the filters' choices too
        context["options"] = {name: form.options(name) for name in form.fields}
    return render(request, template, context)


def _cadence_words(flow: Flow) -> str:
    if flow.kind == Flow.Kind.REPEATING:
        return Cadence.from_json(flow.cadence).words().capitalize()
    if flow.period_start and flow.period_end:
        period = Period(flow.period_start, flow.period_end).label
        return f"{period}; due {flow.due_date:%-d %b %Y}" if flow.due_date else period
    return ""


@require_GET
@vary_on_headers("HX-Request")
@role_required(Perm.VIEW_PRACTICE)
def flow_list(request: HtmxHttpRequest) -> HttpResponse:
    """Every flow of the practice with its cadence, clients, runs by status and next date."""
    page = paginate(request, queries.flows_for_list(request.practice))
    flows = list(page.object_list)
    figures = queries.flow_figures(request.practice, [f.pk for f in flows])
    for flow in flows:
        fig = figures[flow.pk]
        flow.words = _cadence_words(flow)
        flow.client_count = fig["clients"]
        flow.run_counts = [
            (label, fig["runs"].get(value, 0), STATUS_TONES.get(value, "ok"))
            for value, label in R.choices
            if fig["runs"].get(value)
        ]
        flow.run_total = sum(fig["runs"].values())
        if flow.kind == Flow.Kind.REPEATING:
            flow.next_date = None if flow.paused else fig["next_date"]
        else:
            flow.next_date = flow.due_date
    page.object_list = flows
    return render(
        request,
        partial(request, "checks/flows/flow_list.html", "flow-table"),
        {
            "page": page,
            "query": query_without_page(request),
            "flow_url": reverse("checks:flow-detail", args=[0]).removesuffix("0/"),
        },
    )


def _check_name(check) -> str:
    if check.check_key:
        return BUILTIN_NAMES.get(check.check_key, check.check_key)
    return check.custom_check.name


@require_GET
@role_required(Perm.VIEW_PRACTICE)
def flow_detail(request: HtmxHttpRequest, flow_id: int) -> HttpResponse:
    """A flow: its checks, cadence, clients with their team and next date, and its runs."""
    flow = queries.get_flow(request.practice, flow_id)
    runs = paginate(request, queries.flow_runs_of(flow), per_page=queries.SECTION_SIZE)
    runs.object_list = _run_rows(list(runs.object_list))
    checks = queries.flow_checks_of(flow)
    return render(
        request,
        "checks/flows/flow_detail.html",
        {
            "flow": flow,
            "words": _cadence_words(flow),
            "checks": [_check_name(c) for c in checks],
            "flow_clients": queries.flow_clients_of(flow),
            "runs": runs,
            "query": query_without_page(request),
            "run_url": reverse("checks:flow-run", args=[0]).removesuffix("0/"),
            "can_manage": _can_manage(request),
            "can_edit": _can_manage(request) and flow.kind == Flow.Kind.REPEATING,
        },
    )


@require_POST
@role_required(Perm.MANAGE_FLOWS)
def flow_pause(request: HtmxHttpRequest, flow_id: int) -> HttpResponse:
    flow = queries.get_flow(request.practice, flow_id)
    try:
        flow = editing.pause_flow(flow, actor=request.user)
        messages.success(request, f"Paused {flow.name}: it makes no runs until resumed.")
    except making.FlowError as exc:
        messages.error(request, str(exc))
    return redirect("checks:flow-detail", flow_id=flow.pk)


@require_POST
@role_required(Perm.MANAGE_FLOWS)
def flow_resume(request: HtmxHttpRequest, flow_id: int) -> HttpResponse:
    flow = queries.get_flow(request.practice, flow_id)
    try:
        flow = editing.resume_flow(flow, actor=request.user)
        messages.success(request, f"Resumed {flow.name}: runs are made again from today.")
    except making.FlowError as exc:
        messages.error(request, str(exc))
    return redirect("checks:flow-detail", flow_id=flow.pk)


@require_http_methods(["GET", "POST"])
@role_required(Perm.MANAGE_FLOWS)
def run_delete(request: HtmxHttpRequest, flow_id: int, run_id: int) -> HttpResponse:
    """Confirm, then delete one run of a flow (a repeating flow goes on making the next)."""
    flow = queries.get_flow(request.practice, flow_id)
    run = queries.get_flow_run(flow, run_id)
    if request.method == "POST":
        engine.delete_run(run, actor=request.user)
        messages.success(
            request,
            f"Deleted the run for {run.client.name}, "
            f"{Period(run.period_start, run.period_end).label}.",
        )
        return redirect("checks:flow-detail", flow_id=flow.pk)
    run.period_label = Period(run.period_start, run.period_end).label
    return render(request, "checks/flows/run_delete.html", {"flow": flow, "run": run})


def _edit_form(request: HtmxHttpRequest, flow: Flow, flow_clients) -> FlowEditForm:
    practice = request.practice
    flow_checks = queries.flow_checks_of(flow)
    # Archived custom checks are offered only where the flow has them (to keep or untick).
    kept = [c.custom_check_id for c in flow_checks if c.custom_check_id]
    customs = CustomCheck.objects.filter(practice=practice).filter(
        Q(archived=False) | Q(pk__in=kept)
    )
    check_options = [(f"builtin:{c.key}", c.name) for c in CHECKS] + [
        (f"custom:{c.pk}", f"{c.name} (archived)" if c.archived else c.name)
        for c in customs.order_by("name")
    ]
    chosen_refs = [c.ref for c in flow_checks]
    # The flow's own checks first, in their order; then the rest.
    rank = {ref: i for i, ref in enumerate(chosen_refs)}
    check_options.sort(key=lambda o: rank.get(o[0], len(rank)))
    in_flow = {fc.client_id for fc in flow_clients}
    others = [
        (pk, name)
        for pk, name in Client.objects.filter(practice=practice, status=Client.Status.ACTIVE)
        .order_by("name")
        .values_list("pk", "name")
        if pk not in in_flow
    ]
    cadence = Cadence.from_json(flow.cadence)
    initial = {
        "name": flow.name,
        **{
            k: str(getattr(cadence, k))
            for k in ("mode", "period", "event", "offset_unit", "within_unit", "rule")
        },
        "every": cadence.every,
        "offset": cadence.offset,
        "within": cadence.within,
    }
    return FlowEditForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        check_options=check_options,
        chosen_refs=chosen_refs,
        flow_clients=flow_clients,
        members=list(members_of(practice).values_list("pk", "full_name")),
        other_clients=others,
        tags=Tag.objects.filter(practice=practice).order_by("name").values_list("pk", "name"),
        rules=[(str(r), RULE_LABELS[r]) for r in Rule],
    )


def _teams(request: HtmxHttpRequest, form: FlowEditForm, flow_clients) -> list[making.ClientTeam]:
    """The clients the form keeps (with their team) and adds (with each client's default
    flow assignee and reviewer)."""
    data = form.cleaned_data
    teams = [
        making.ClientTeam(
            fc.client_id,
            data.get(f"assignee-{fc.client_id}"),
            data.get(f"reviewer-{fc.client_id}"),
            data.get(f"second-{fc.client_id}"),
        )
        for fc in flow_clients
        if not data.get(f"remove-{fc.client_id}")
    ]
    have = {fc.client_id for fc in flow_clients}
    added = Client.objects.filter(practice=request.practice, pk__in=data.get("add_clients") or [])
    if data.get("add_tag"):
        added = added | Client.objects.filter(
            practice=request.practice, tags=data["add_tag"], status=Client.Status.ACTIVE
        )
    for client in added.distinct().order_by("name"):
        if client.pk in have:
            continue
        have.add(client.pk)
        reviewer = client.default_reviewer_id
        assignee = client.default_assignee_id
        teams.append(
            making.ClientTeam(client.pk, assignee, reviewer if reviewer != assignee else None)
        )
    return teams


@require_http_methods(["GET", "POST"])
@role_required(Perm.MANAGE_FLOWS)
def flow_edit(request: HtmxHttpRequest, flow_id: int) -> HttpResponse:
    """Edit a repeating flow; the edit applies from each client's next run."""
    flow = queries.get_flow(request.practice, flow_id)
    if flow.kind != Flow.Kind.REPEATING:
        messages.error(request, "A one-off flow's runs are made already: it cannot be edited.")
        return redirect("checks:flow-detail", flow_id=flow.pk)
    flow_clients = queries.flow_clients_of(flow)
    form = _edit_form(request, flow, flow_clients)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        cadence = Cadence(
            **{
                k: data[k]
                for k in (
                    "mode", "period", "every", "event", "offset", "offset_unit", "within",
                    "within_unit", "rule",
                )
            }
        )  # fmt: skip
        try:
            flow = editing.update_flow(
                flow,
                actor=request.user,
                name=data["name"],
                checks=data["checks"],
                cadence=cadence,
                clients=_teams(request, form, flow_clients),
            )
        except making.FlowError as exc:
            for field, message in exc.errors.items():
                form.add_error(field if field in form.fields else None, message)
        else:
            messages.success(
                request, f"Saved {flow.name}: the changes apply from each client's next run."
            )
            return redirect("checks:flow-detail", flow_id=flow.pk)
    return render(
        request,
        "checks/flows/flow_edit.html",
        {"flow": flow, "form": form, "cadence_fields": ["period", "every"]},
    )
