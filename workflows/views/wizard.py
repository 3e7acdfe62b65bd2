"""The step wizard's pages: choose a type, fill in one stage at a time, review, create.

Every page is the full page or, for htmx, just its `#wizard` partial. POSTs from htmx return
the next stage's partial (and push its URL); plain POSTs redirect to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from sodium.roles import Perm
from sodium.tenancy import role_required
from sodium.views.common import HtmxHttpRequest, partial
from workflows import step_types
from workflows.models import TemplateGroup
from workflows.wizard import drafts, review, steps
from workflows.wizard import forms as stage_forms

PAGE = "workflows/wizard/wizard.html"
AUTOMATIC_OR_MANUAL = (
    "Can go out automatically once the steps before it are done, or wait for a person."
)
ALWAYS_MANUAL = "Always done by a person."
START = "workflows/wizard/start.html"


def _group(request: HtmxHttpRequest, group_id: int) -> TemplateGroup:
    return get_object_or_404(
        TemplateGroup.objects.filter(practice=request.practice).select_related("template"),
        pk=group_id,
    )


def _types() -> list[dict[str, str]]:
    """Return the type cards: every registered step type, as it declares itself (whether it
    may run automatically included)."""
    return [
        {
            "value": t.value,
            "label": t.label,
            "description": t.description,
            "icon": t.icon,
            "mode_line": AUTOMATIC_OR_MANUAL if t.may_run_automatically else ALWAYS_MANUAL,
        }
        for t in step_types.all_types()
    ]


def _template_url(group: TemplateGroup) -> str:
    return reverse("workflows:template-detail", kwargs={"template_id": group.template_id})


def _templates_url() -> str:
    return reverse("workflows:template-list")


def _expired(request: HtmxHttpRequest) -> HttpResponse:
    response = render(
        request, "workflows/wizard/expired.html", {"restart_url": _templates_url()}, status=404
    )
    if request.htmx:
        # htmx does not swap a 404: reload the page, which then shows this one in full.
        response["HX-Refresh"] = "true"
    return response


@dataclass
class _Loaded:
    draft: dict
    ctx: drafts.WizardContext


def _load(request: HtmxHttpRequest, draft_id: str) -> _Loaded:
    """Return the draft with its group, or raise DraftNotFound (also for a deleted group)."""
    draft = drafts.get_draft(request.session, draft_id, practice_id=request.practice.pk)
    group = (
        TemplateGroup.objects.filter(practice=request.practice, pk=draft["group_id"])
        .select_related("template")
        .first()
    )
    if group is None:
        if request.method == "POST":  # a GET leaves the dead draft to expire with the rest
            drafts.drop_draft(request.session, draft_id)
        raise drafts.DraftNotFound(draft_id)
    if draft["stage"] not in drafts.stages(draft):
        steps.go_to(draft, drafts.frontier(draft))
    return _Loaded(draft, drafts.WizardContext(practice=request.practice, group=group))


def _stage_url(draft: dict, stage: str) -> str:
    return reverse("workflows:wizard-stage", kwargs={"draft_id": draft["id"], "stage": stage})


def _token_context(kind: str, stage: str) -> dict[str, Any]:
    """Return the token picker of a stage: exactly the variables its token fields may write
    (the step email's for the content stage; the type's behaviour use, e.g. a chase, else)."""
    if stage == "content":
        groups = step_types.email_token_groups(kind)
    else:
        groups = step_types.behaviour_token_groups(kind)
    return {"token_groups": groups}


def _render_stage(
    request: HtmxHttpRequest,
    loaded: _Loaded,
    stage: str,
    *,
    form: Any = None,
    preview: review.Preview | None = None,
    status: int = 200,
) -> HttpResponse:
    draft, ctx = loaded.draft, loaded.ctx
    context: dict[str, Any] = {
        "draft": draft,
        "group": ctx.group,
        "template": ctx.group.template,
        "template_url": _template_url(ctx.group),
        "templates_url": _templates_url(),
        "stage": stage,
        "stage_label": drafts.STAGE_LABELS[stage],
        "step_type": drafts.step_type(draft),
        "type_spec": drafts.spec(draft),
        "type_label": drafts.spec(draft).label,
        "progress": drafts.progress(draft),
        "ready_for_review": drafts.ready_for_review(draft),
        "is_first": stage == "type",
        "next_label": drafts.STAGE_LABELS[drafts.next_stage(draft, stage)],
    }
    if stage == "type":
        context["types"] = _types()
        context["form"] = form
    elif stage == "review":
        context["sections"] = review.summary(draft, ctx)
        context["review_errors"] = draft["errors"].pop("review", {}).get("review", [])
    else:
        context["form"] = form if form is not None else stage_forms.display_form(draft, stage, ctx)
    if stage in ("content", "behaviour"):
        context.update(_token_context(drafts.step_type(draft), stage))
    if stage == "content":
        context["preview"] = preview or review.preview(
            draft, ctx, stage_forms.bound_form(draft, "content", ctx, context["form"].data or None)
        )
    if stage == "recipients":
        form = context["form"]
        context["recipient_groups"] = stage_forms.recipient_options()
        context["recipient_lists"] = [
            {
                "key": key,
                "field": form[f"{key}_recipients"],
                "emails": form[f"{key}_emails"],
                "chosen": form[f"{key}_recipients"].value() or [],
            }
            for key in ("to", "cc")
        ]
    if stage == "assignment":
        context["assignment_help"] = stage_forms.ASSIGNMENT_HELP
    _save(request, draft)
    template = partial(request, PAGE, "wizard")
    response = render(request, template, context, status=status)
    if template != PAGE:
        response["HX-Push-Url"] = _stage_url(draft, stage)
    return response


def _save(request: HtmxHttpRequest, draft: dict) -> None:
    # Only a POST changes the draft kept in the session: showing a stage (GET) reads it.
    if request.method == "POST":
        drafts.save_draft(request.session, draft)


def _show(request: HtmxHttpRequest, loaded: _Loaded, stage: str) -> HttpResponse:
    """Show a stage, with the problems creating the step found there, if any."""
    draft, ctx = loaded.draft, loaded.ctx
    steps.go_to(draft, stage)
    if stage in draft["errors"] and stage not in ("review", "type"):
        # Shown until the stage is saved again, which clears them.
        errors = draft["errors"][stage]
        form = steps.stage_form_with_errors(draft, stage, ctx, errors)
        return _render_stage(request, loaded, stage, form=form)
    return _render_stage(request, loaded, stage)


def _go(request: HtmxHttpRequest, loaded: _Loaded, stage: str) -> HttpResponse:
    """Move the draft to `stage`: the partial for htmx, a redirect otherwise (PRG)."""
    steps.go_to(loaded.draft, stage)
    _save(request, loaded.draft)
    if request.htmx:
        return _render_stage(request, loaded, stage)
    return redirect(_stage_url(loaded.draft, stage))


@vary_on_headers("HX-Request")
@require_http_methods(["GET", "POST"])
@role_required(Perm.MANAGE_TEMPLATES)
def wizard_start(request: HtmxHttpRequest, group_id: int) -> HttpResponse:
    """Show the five step types; choosing one (POST) starts a draft at its name stage."""
    group = _group(request, group_id)
    error = ""
    if request.method == "POST":
        kind = request.POST.get("type", "")
        if step_types.is_registered(kind):
            draft = drafts.start_draft(
                request.session,
                practice_id=request.practice.pk,
                group_id=group.pk,
                step_type=kind,
            )
            ctx = drafts.WizardContext(practice=request.practice, group=group)
            return _go(request, _Loaded(draft, ctx), "name")
        error = "Choose a step type."
    context = {
        "group": group,
        "template": group.template,
        "template_url": _template_url(group),
        "templates_url": _templates_url(),
        "types": _types(),
        "error": error,
    }
    return render(request, partial(request, START, "wizard"), context)


@vary_on_headers("HX-Request")
@require_http_methods(["GET", "POST"])
@role_required(Perm.MANAGE_TEMPLATES)
def wizard_stage(request: HtmxHttpRequest, draft_id: str, stage: str) -> HttpResponse:
    """Show a stage (GET), or save it and move on with action=next|back|review (POST)."""
    try:
        loaded = _load(request, draft_id)
    except drafts.DraftNotFound:
        return _expired(request)
    draft, ctx = loaded.draft, loaded.ctx
    if stage not in drafts.stages(draft):
        raise Http404("This kind of step has no such stage.")
    if not drafts.can_visit(draft, stage):
        messages.info(request, "Finish this stage first.")
        return _go(request, loaded, draft["stage"])
    if request.method == "GET":
        return _show(request, loaded, stage)

    action = request.POST.get("action", "next")
    if stage == "review":
        return _go(request, loaded, drafts.previous_stage(draft, stage))
    if action == "back":
        steps.keep_stage(draft, stage, request.POST, ctx)
        return _go(request, loaded, drafts.previous_stage(draft, stage))
    form = steps.submit_stage(draft, stage, request.POST, ctx)
    target = drafts.CREATOR.target(draft, stage, action, valid=form.is_valid())
    if target == stage:
        steps.go_to(draft, stage)
        return _render_stage(request, loaded, stage, form=form)
    return _go(request, loaded, target)


@require_POST
@role_required(Perm.MANAGE_TEMPLATES)
def wizard_preview(request: HtmxHttpRequest, draft_id: str) -> HttpResponse:
    """Render the content stage's email for a chosen client; keep what was typed."""
    try:
        loaded = _load(request, draft_id)
    except drafts.DraftNotFound:
        return _expired(request)
    draft, ctx = loaded.draft, loaded.ctx
    if "content" not in drafts.stages(draft):
        raise Http404("This kind of step sends no email.")
    steps.keep_stage(draft, "content", request.POST, ctx)
    drafts.save_draft(request.session, draft)
    form = stage_forms.bound_form(draft, "content", ctx, request.POST)
    preview = review.preview(draft, ctx, form)
    if request.htmx:
        return render(
            request,
            "workflows/wizard/_content.html#wizard-preview",
            {"preview": preview, "draft": draft},
        )
    steps.go_to(draft, "content")
    shown = stage_forms.display_form(draft, "content", ctx)
    return _render_stage(request, loaded, "content", form=shown, preview=preview)


@require_POST
@role_required(Perm.MANAGE_TEMPLATES)
def wizard_create(request: HtmxHttpRequest, draft_id: str) -> HttpResponse:
    """Check the whole draft and add the step; on a problem, go to the stage that has it."""
    try:
        loaded = _load(request, draft_id)
    except drafts.DraftNotFound:
        return _expired(request)
    draft, ctx = loaded.draft, loaded.ctx
    try:
        step = steps.create_step(draft, ctx, actor=request.user)
    except steps.WizardError as exc:
        draft["errors"].setdefault(exc.stage, exc.errors)
        steps.go_to(draft, exc.stage)
        drafts.save_draft(request.session, draft)
        messages.error(request, str(exc))
        if request.htmx:
            return _show(request, loaded, exc.stage)
        return redirect(_stage_url(draft, exc.stage))
    drafts.drop_draft(request.session, draft_id)
    messages.success(request, f"Added the step “{step.name}” to {ctx.group.template.name}.")
    url = _template_url(ctx.group)
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)


@require_POST
@role_required(Perm.MANAGE_TEMPLATES)
def wizard_cancel(request: HtmxHttpRequest, draft_id: str) -> HttpResponse:
    """Forget the draft and go back to the template."""
    try:
        loaded = _load(request, draft_id)
    except drafts.DraftNotFound:
        return _expired(request)
    drafts.drop_draft(request.session, draft_id)
    url = _template_url(loaded.ctx.group)
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)
