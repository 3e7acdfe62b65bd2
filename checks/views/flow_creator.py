"""The flow creator's pages: choose one-off or repeating, six stages, review, Go.

Every stage page is the full page or, for htmx, just its `#creator` partial (with its URL
pushed). POSTs from htmx return the next stage's partial; plain POSTs redirect to it (PRG).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from checks.flows import creator, creator_review, creator_stages, making
from checks.flows import creator_forms as stage_forms
from checks.models import Flow
from sodium.drafts import DraftNotFound
from sodium.roles import Perm
from sodium.tenancy import role_required
from sodium.views.common import HtmxHttpRequest, partial

PAGE = "checks/flows/creator.html"
START = "checks/flows/creator_start.html"


def _stage_url(draft: dict, stage: str) -> str:
    return reverse("checks:flow-creator-stage", kwargs={"draft_id": draft["id"], "stage": stage})


def _expired(request: HtmxHttpRequest) -> HttpResponse:
    response = render(request, "checks/flows/creator_expired.html", status=404)
    if request.htmx:
        response["HX-Refresh"] = "true"  # htmx does not swap a 404
    return response


def _save(request: HtmxHttpRequest, draft: dict) -> None:
    if request.method == "POST":  # showing a stage (GET) only reads the draft
        creator.CREATOR.save(request.session, draft)


def _render_stage(
    request: HtmxHttpRequest,
    draft: dict,
    ctx: creator.CreatorContext,
    stage: str,
    *,
    form: Any = None,
    go_errors: list[dict[str, str]] | None = None,
) -> HttpResponse:
    context: dict[str, Any] = {
        "draft": draft,
        "stage": stage,
        "stage_label": creator.LABELS[stage],
        "kind_label": Flow.Kind(creator.kind(draft)).label,
        "repeating": creator.is_repeating(draft),
        "progress": creator.CREATOR.progress(draft),
        "ready_for_review": creator.CREATOR.ready_for_review(draft),
        "is_first": stage == "checks",
        "next_label": creator.LABELS[creator.CREATOR.next_stage(draft, stage)],
        "cancel_url": reverse("checks:flow-creator-cancel", kwargs={"draft_id": draft["id"]}),
        "stage_url": _stage_url(draft, stage),
    }
    if stage == "review":
        context["sections"] = creator_review.review_sections(draft, ctx)
        context["go_errors"] = go_errors or []
    else:
        form = form if form is not None else creator_stages.display_form(draft, stage, ctx)
        context["form"] = form
    if stage == "checks":
        context["picker"] = stage_forms.check_picker(form, ctx)
        context["templates"] = ctx.templates
    elif stage == "cadence" and creator.is_repeating(draft):
        values = {name: form[name].value() for name in form.fields}
        context["dates"] = creator_review.dates_preview(draft, ctx, values)
        context["scheduled_note"] = creator_review.SCHEDULED_NOTE
    elif stage == "clients":
        context["chosen_ids"] = creator.chosen_client_ids(
            {**draft, "values": {**draft["values"], "clients": _values_of(form)}}, ctx
        )
        context["chosen"] = [ctx.clients_by_id[pk] for pk in context["chosen_ids"][:50]]
    _save(request, draft)
    template = partial(request, PAGE, "creator")
    response = render(request, template, context)
    if template != PAGE:
        response["HX-Push-Url"] = _stage_url(draft, stage)
    return response


def _values_of(form) -> dict[str, Any]:
    return {name: form[name].value() or [] for name in ("clients", "tags")}


def _go_to(request: HtmxHttpRequest, draft: dict, ctx, stage: str) -> HttpResponse:
    draft["stage"] = stage
    _save(request, draft)
    if request.htmx:
        return _render_stage(request, draft, ctx, stage)
    return redirect(_stage_url(draft, stage))


def _load(request: HtmxHttpRequest, draft_id: str) -> dict:
    return creator.CREATOR.get(request.session, draft_id, practice_id=request.practice.pk)


@vary_on_headers("HX-Request")
@require_http_methods(["GET", "POST"])
@role_required(Perm.MANAGE_FLOWS)
def creator_start(request: HtmxHttpRequest) -> HttpResponse:
    """Show the two choices and the practice's templates; a POST starts a draft."""
    ctx = creator.CreatorContext.of(request.practice)
    error = ""
    if request.method == "POST":
        kind = request.POST.get("kind", "")
        template = None
        if request.POST.get("template"):
            template = next(
                (t for t in ctx.templates if str(t.pk) == request.POST["template"]), None
            )
            if template is None:
                error = "That template no longer exists; choose another."
        if kind in Flow.Kind.values and not error:
            draft = creator.start_draft(
                request.session,
                practice_id=request.practice.pk,
                kind=kind,
                template=template,
                refs=ctx.template_refs(template) if template else None,
            )
            return _go_to(request, draft, ctx, "checks")
        error = error or "Choose a one-off or a repeating flow."
    context = {"templates": ctx.templates, "check_names": ctx.check_names, "error": error}
    return render(request, START, context, status=200)


@vary_on_headers("HX-Request")
@require_http_methods(["GET", "POST"])
@role_required(Perm.MANAGE_FLOWS)
def creator_stage(request: HtmxHttpRequest, draft_id: str, stage: str) -> HttpResponse:
    """Show a stage (GET), or save it and move with action=next|back|review (POST); a POST
    may also move a check (move=up:<ref>), apply a template (action=template), set the whole
    team (action=set_all) or work the dates out again (action=dates)."""
    try:
        draft = _load(request, draft_id)
    except DraftNotFound:
        return _expired(request)
    if stage not in creator.STAGES:
        raise Http404("The flow creator has no such stage.")
    ctx = creator.CreatorContext.of(request.practice)
    if not creator.CREATOR.can_visit(draft, stage):
        first = creator.CREATOR.frontier(draft)
        messages.info(request, f"Finish “{creator.LABELS[first]}” first: the later stages need it.")
        return _go_to(request, draft, ctx, first)
    if request.method == "GET":
        draft["stage"] = stage
        return _render_stage(request, draft, ctx, stage)

    action = request.POST.get("action", "next")
    if stage == "review":
        return _go_to(request, draft, ctx, creator.CREATOR.previous_stage(draft, stage))
    data = request.POST.copy()
    if stage == "checks" and (request.POST.get("move") or action == "template"):
        if request.POST.get("move"):
            data.setlist("checks", stage_forms.moved(data.getlist("checks"), data["move"]))
        else:
            template = next((t for t in ctx.templates if str(t.pk) == data.get("template")), None)
            if template is not None:
                data.setlist("checks", ctx.template_refs(template))
                if not data.get("name", "").strip():
                    data["name"] = template.name
        creator_stages.keep_stage(draft, stage, data, ctx)
        draft["stage"] = stage
        return _render_stage(
            request, draft, ctx, stage, form=creator_stages.display_form(draft, stage, ctx)
        )
    if stage == "team" and action == "set_all":
        for prefix, _label in stage_forms.TeamForm.ROLES:
            value = data.get(f"all_{prefix}", "")
            if value:
                for pk in creator.chosen_client_ids(draft, ctx):
                    data[f"{prefix}_{pk}"] = value
        creator_stages.keep_stage(draft, stage, data, ctx)
        draft["stage"] = stage
        return _render_stage(
            request, draft, ctx, stage, form=creator_stages.display_form(draft, stage, ctx)
        )
    if action == "back":
        creator_stages.keep_stage(draft, stage, data, ctx)
        return _go_to(request, draft, ctx, creator.CREATOR.previous_stage(draft, stage))
    form = creator_stages.submit_stage(draft, stage, data, ctx)
    if action == "dates":
        draft["stage"] = stage
        return _render_stage(request, draft, ctx, stage, form=form)
    target = creator.CREATOR.target(draft, stage, action, valid=form.is_valid())
    if target == stage:
        draft["stage"] = stage
        return _render_stage(request, draft, ctx, stage, form=form)
    return _go_to(request, draft, ctx, target)


def _done_url(flow: Flow) -> str:
    """Where a made flow goes: its page, with its runs (a repeating flow's yet to come)."""
    return reverse("checks:flow-detail", args=[flow.pk])


@require_POST
@role_required(Perm.MANAGE_FLOWS)
def creator_go(request: HtmxHttpRequest, draft_id: str) -> HttpResponse:
    """Make the flow (all its runs or none); on a problem, show it on the review with links
    to the stages that fix it."""
    try:
        draft = _load(request, draft_id)
    except DraftNotFound:
        return _expired(request)
    ctx = creator.CreatorContext.of(request.practice)
    if not creator.CREATOR.ready_for_review(draft):
        first = creator.CREATOR.frontier(draft)
        messages.info(request, f"Finish “{creator.LABELS[first]}” first.")
        return _go_to(request, draft, ctx, first)
    # Check every stage again, as Go sees the practice now (a client archived, a check or a
    # member gone since): a problem is shown on the review with a link to its stage.
    problems = []
    for stage in creator.STAGES[:-1]:
        form = creator_stages.check_stage(draft, stage, ctx)
        if stage == "rules" and form.is_valid():
            draft["rules_store"] = form.changed_rules  # the period may have changed since
        if not form.is_valid():
            creator.CREATOR.mark(draft, stage, False)
            message = next(iter(form.errors.values()))[0]
            problems.append({"message": message, "stage": stage, "label": creator.LABELS[stage]})
    if problems:
        draft["stage"] = "review"
        return _render_stage(request, draft, ctx, "review", go_errors=problems)
    try:
        flow = making.create_flow(
            request.practice, creator.build_spec(draft, ctx), actor=request.user, today=ctx.today
        )
    except making.FlowError as exc:
        go_errors = [
            {
                "message": message,
                "stage": creator.ERROR_STAGES.get(key, "review"),
                "label": creator.LABELS[creator.ERROR_STAGES.get(key, "review")],
            }
            for key, message in exc.errors.items()
        ]
        draft["stage"] = "review"
        return _render_stage(request, draft, ctx, "review", go_errors=go_errors)
    creator.CREATOR.drop(request.session, draft_id)
    n = flow.flow_clients.count()
    if flow.kind == Flow.Kind.ONE_OFF:
        made = f"with {n} run{'s' if n != 1 else ''}"
    else:
        made = f"for {n} client{'s' if n != 1 else ''}; each run appears on its scheduled date"
    messages.success(request, f"Created the flow “{flow.name}” {made}.")
    url = _done_url(flow)
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)


@require_POST
@role_required(Perm.MANAGE_FLOWS)
def creator_cancel(request: HtmxHttpRequest, draft_id: str) -> HttpResponse:
    """Forget the draft and go back to the creator."""
    try:
        _load(request, draft_id)
    except DraftNotFound:
        return _expired(request)
    creator.CREATOR.drop(request.session, draft_id)
    url = reverse("checks:flow-creator")
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)
