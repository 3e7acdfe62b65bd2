"""The workflow template editor: the list, a template's page and its in-place edits.

Every write goes through `workflows.building`. An htmx request gets back the part of the page
it changed (a group card, or the list of groups); a plain form post is redirected (or, with
errors, shown on the full page) so the editor works without JavaScript.
"""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from sodium import queries as core_queries
from sodium.messaging.preview import preview_clients
from sodium.models import Practice
from sodium.roles import Perm
from sodium.tenancy import role_required
from sodium.views.common import HtmxHttpRequest, paginate
from workflows import building, engine, step_types
from workflows.building import TemplateError
from workflows.forms import GroupForm, StepForm, TemplateForm
from workflows.models import (
    AssignmentRule,
    ContentBlock,
    TemplateChecklistItem,
    TemplateDependency,
    TemplateGroup,
    TemplateStep,
    WorkflowTemplate,
)
from workflows.step_types import recipient_label

LIST = "workflows/template_list.html"
PAGE = "workflows/template_detail.html"
FORM = "workflows/template_form.html"


# --- reads (each scoped to the practice; another practice's id is a 404) ---------------------


def _get_template(practice: Practice, template_id: int) -> WorkflowTemplate:
    return get_object_or_404(WorkflowTemplate.objects.filter(practice=practice), pk=template_id)


def _get_group(practice: Practice, group_id: int) -> TemplateGroup:
    return get_object_or_404(
        TemplateGroup.objects.filter(practice=practice).select_related("template"), pk=group_id
    )


def _get_step(practice: Practice, template_step_id: int) -> TemplateStep:
    return get_object_or_404(
        TemplateStep.objects.filter(practice=practice).select_related("group", "group__template"),
        pk=template_step_id,
    )


def _wizard_url(group_id: int) -> str:
    return reverse("workflows:wizard-start", kwargs={"group_id": group_id})


def _assignment_label(step: TemplateStep) -> str:
    if step.assignment_rule == AssignmentRule.SPECIFIC:
        person = step.specific_assignee
        return (person.full_name or person.email) if person else "A specific member (not chosen)"
    return step.get_assignment_rule_display()


def _content_label(step: TemplateStep) -> str:
    if not step.sends_email:
        return ""
    if step.content_block_id:
        return f"Content block: {step.content_block.name}"
    if step.subject.strip() and step.body.strip():
        return "Own email"
    return "Built-in email"


def load_groups(
    practice: Practice, template: WorkflowTemplate, *, only: TemplateGroup | None = None
) -> list[TemplateGroup]:
    """Return the template's groups (or just `only`), each with `.step_list` described.

    Three queries whatever the size of the template: groups, steps, dependencies.
    """
    all_groups = list(
        TemplateGroup.objects.filter(practice=practice, template=template).order_by(
            "position", "id"
        )
    )
    for index, group in enumerate(all_groups):
        group.is_first = index == 0
        group.is_last = index == len(all_groups) - 1
        group.is_only = len(all_groups) == 1
        group.add_step_url = _wizard_url(group.pk)
        group.step_list = []
    # The Move to group select of each step: every group of the template, in order.
    choices = [(g.pk, g.name) for g in all_groups]
    for group in all_groups:
        group.move_choices = choices
    groups = [g for g in all_groups if only is None or g.pk == only.pk]
    by_pk = {g.pk: g for g in groups}
    steps = list(
        TemplateStep.objects.filter(practice=practice, group_id__in=list(by_pk))
        .select_related("content_block", "specific_assignee")
        .defer("content_block__body")
        .annotate(checklist_count=Count("checklist"))
        .order_by("position", "id")
    )
    names = {s.pk: s.name for s in steps}
    after: dict[int, list[int]] = {}
    for step_id, depends_on_id in TemplateDependency.objects.filter(
        practice=practice, step_id__in=list(names)
    ).values_list("step_id", "depends_on_id"):
        after.setdefault(step_id, []).append(depends_on_id)
    for step in steps:
        group = by_pk[step.group_id]
        group.step_list.append(step)
        step.dep_ids = after.get(step.pk, [])
        step.after = [names[pk] for pk in step.dep_ids if pk in names]
        step.to_labels = [recipient_label(t) for t in step.to_recipients]
        step.cc_labels = [recipient_label(t) for t in step.cc_recipients]
        step.assignment_label = _assignment_label(step)
        step.content_label = _content_label(step)
    for group in groups:
        last = len(group.step_list) - 1
        for index, step in enumerate(group.step_list):
            step.is_first, step.is_last = index == 0, index == last
    return groups


def _step_form(
    request: HtmxHttpRequest, step: TemplateStep, group: TemplateGroup, data=None
) -> StepForm:
    practice = request.practice
    blocks = list(ContentBlock.objects.filter(practice=practice).only("pk", "name", "system_key"))
    return StepForm(
        data,
        step=step,
        siblings=group.step_list,
        members=list(core_queries.members_of(practice)),
        blocks=blocks,
        checklist=list(
            TemplateChecklistItem.objects.filter(practice=practice, step=step)
            .order_by("position", "id")
            .values_list("text", flat=True)
        ),
        depends_on=next((s.dep_ids for s in group.step_list if s.pk == step.pk), []),
    )


# --- rendering -------------------------------------------------------------------------------


def _page(request: HtmxHttpRequest, template: WorkflowTemplate, **extra) -> HttpResponse:
    """Render the whole template page (also the no-JavaScript fallback of every edit)."""
    return render(request, PAGE, _page_context(request, template, **extra))


def _page_context(request: HtmxHttpRequest, template: WorkflowTemplate, **extra) -> dict:
    context = {
        "template": template,
        "groups": load_groups(request.practice, template),
        "add_group_form": GroupForm(prefix="new-group"),
        **extra,
    }
    return context


def _groups_part(request: HtmxHttpRequest, template: WorkflowTemplate, **extra) -> HttpResponse:
    if not request.htmx:
        return _page(request, template, **extra)
    return render(request, f"{PAGE}#template-groups", _page_context(request, template, **extra))


def _group_part(request: HtmxHttpRequest, group: TemplateGroup, **extra) -> HttpResponse:
    """Render one group card; `extra` may carry an open step editor or rename form."""
    template = group.template
    if not request.htmx:
        return _page(request, template, **extra)
    (group,) = load_groups(request.practice, template, only=group)
    flash = extra.pop("flash", "")
    context = {"template": template, "group": group, **extra}
    if flash:
        context.update(group_flash=flash, flash_group=group.pk)
    if "editing" in extra and "step_form" not in extra:
        step = next(s for s in group.step_list if s.pk == extra["editing"])
        context["step_form"] = _step_form(request, step, group)
    return render(request, f"{PAGE}#template-group", context)


# --- list and create -------------------------------------------------------------------------


@require_GET
@vary_on_headers("HX-Request")
@role_required(Perm.MANAGE_TEMPLATES)
def template_list(request: HtmxHttpRequest) -> HttpResponse:
    practice = request.practice
    status = request.GET.get("status")
    if status not in WorkflowTemplate.Status.values:
        status = WorkflowTemplate.Status.ACTIVE
    templates = (
        WorkflowTemplate.objects.filter(practice=practice, status=status)
        .annotate(
            group_count=Count("groups", distinct=True),
            step_count=Count("groups__steps", distinct=True),
        )
        .order_by("name", "id")
    )
    counts = WorkflowTemplate.objects.filter(practice=practice).aggregate(
        active=Count("pk", filter=Q(status=WorkflowTemplate.Status.ACTIVE)),
        archived=Count("pk", filter=Q(status=WorkflowTemplate.Status.ARCHIVED)),
    )
    return render(
        request,
        LIST,
        {
            "page": paginate(request, templates),
            "status": status,
            "counts": counts,
            "query": f"status={status}",
        },
    )


@require_http_methods(["GET", "POST"])
@role_required(Perm.MANAGE_TEMPLATES)
def template_create(request: HtmxHttpRequest) -> HttpResponse:
    form = TemplateForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        template = building.create_template(
            practice=request.practice, actor=request.user, **form.cleaned_data
        )
        messages.success(request, f"Created {template.name}. Now add its steps.")
        return redirect("workflows:template-detail", template_id=template.pk)
    return render(request, FORM, {"form": form})


# --- the template page -----------------------------------------------------------------------


@require_GET
@vary_on_headers("HX-Request")
@role_required(Perm.MANAGE_TEMPLATES)
def template_detail(request: HtmxHttpRequest, template_id: int) -> HttpResponse:
    """Show the template; for htmx (a Cancel button) only its list of groups."""
    template = _get_template(request.practice, template_id)
    if request.htmx and not request.htmx.history_restore_request:
        return _groups_part(request, template)
    return _page(request, template)


@require_http_methods(["GET", "POST"])
@role_required(Perm.MANAGE_TEMPLATES)
def template_edit(request: HtmxHttpRequest, template_id: int) -> HttpResponse:
    template = _get_template(request.practice, template_id)
    initial = {"name": template.name, "description": template.description}
    form = TemplateForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        building.update_template(template, actor=request.user, **form.cleaned_data)
        messages.success(request, "Saved the template's details.")
        return redirect("workflows:template-detail", template_id=template.pk)
    return render(request, FORM, {"form": form, "template": template})


@require_POST
@role_required(Perm.MANAGE_TEMPLATES)
def template_clone(request: HtmxHttpRequest, template_id: int) -> HttpResponse:
    template = _get_template(request.practice, template_id)
    copy = building.clone_template(template, actor=request.user)
    messages.success(request, f"Copied {template.name}. This is the copy: rename it if you like.")
    url = reverse("workflows:template-detail", kwargs={"template_id": copy.pk})
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@require_POST
@role_required(Perm.MANAGE_TEMPLATES)
def template_status(request: HtmxHttpRequest, template_id: int) -> HttpResponse:
    template = _get_template(request.practice, template_id)
    status = request.POST.get("status", "")
    if status not in WorkflowTemplate.Status.values:
        messages.error(request, "Choose whether to archive or restore the template.")
    elif status != template.status:
        engine.set_template_status(template, actor=request.user, status=status)
        if status == WorkflowTemplate.Status.ARCHIVED:
            messages.success(
                request, f"Archived {template.name}. It can no longer be attached to tasks."
            )
        else:
            messages.success(request, f"Restored {template.name}.")
    url = reverse("workflows:template-detail", kwargs={"template_id": template.pk})
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


# --- groups ----------------------------------------------------------------------------------


@require_POST
@role_required(Perm.MANAGE_TEMPLATES)
def group_create(request: HtmxHttpRequest, template_id: int) -> HttpResponse:
    template = _get_template(request.practice, template_id)
    form = GroupForm(request.POST, prefix="new-group")
    if not form.is_valid():
        return _groups_part(request, template, add_group_form=form)
    group = building.add_group(template, actor=request.user, name=form.cleaned_data["name"])
    flash = f"Added the group {group.name}."
    if not request.htmx:
        messages.success(request, flash)
        return redirect(_group_anchor(group))
    return _groups_part(request, template, flash=flash, flash_group=group.pk)


def _group_anchor(group: TemplateGroup) -> str:
    url = reverse("workflows:template-detail", kwargs={"template_id": group.template_id})
    return f"{url}#group-{group.pk}"


@require_GET
@vary_on_headers("HX-Request")
@role_required(Perm.MANAGE_TEMPLATES)
def group_detail(request: HtmxHttpRequest, group_id: int) -> HttpResponse:
    """Return one group card (the Cancel of its editors); without htmx, the page at it."""
    group = _get_group(request.practice, group_id)
    if not request.htmx:
        return redirect(_group_anchor(group))
    return _group_part(request, group)


@require_http_methods(["GET", "POST"])
@role_required(Perm.MANAGE_TEMPLATES)
def group_rename(request: HtmxHttpRequest, group_id: int) -> HttpResponse:
    group = _get_group(request.practice, group_id)
    form = GroupForm(
        request.POST if request.method == "POST" else None,
        initial={"name": group.name},
        prefix=f"g{group.pk}",
    )
    if request.method == "POST" and form.is_valid():
        building.rename_group(group, actor=request.user, name=form.cleaned_data["name"])
        if not request.htmx:
            messages.success(request, f"Renamed the group to {group.name}.")
            return redirect(_group_anchor(group))
        return _group_part(request, group, flash=f"Renamed the group to {group.name}.")
    return _group_part(request, group, renaming=group.pk, rename_form=form)


def _offset(request: HtmxHttpRequest) -> int:
    return -1 if request.POST.get("direction") == "up" else 1


@require_POST
@role_required(Perm.MANAGE_TEMPLATES)
def group_move(request: HtmxHttpRequest, group_id: int) -> HttpResponse:
    group = _get_group(request.practice, group_id)
    building.move_group(group, actor=request.user, offset=_offset(request))
    if not request.htmx:
        return redirect(_group_anchor(group))
    return _groups_part(request, group.template)


@require_POST
@role_required(Perm.MANAGE_TEMPLATES)
def group_delete(request: HtmxHttpRequest, group_id: int) -> HttpResponse:
    group = _get_group(request.practice, group_id)
    template, name = group.template, group.name
    try:
        building.delete_group(group, actor=request.user)
    except TemplateError as exc:
        return _groups_part(request, template, group_error=str(exc), error_group=group.pk)
    flash = f"Deleted the group {name} and its steps."
    if not request.htmx:
        messages.success(request, flash)
        return redirect("workflows:template-detail", template_id=template.pk)
    return _groups_part(request, template, flash=flash)


# --- steps -----------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@role_required(Perm.MANAGE_TEMPLATES)
def step_edit(request: HtmxHttpRequest, template_step_id: int) -> HttpResponse:
    step = _get_step(request.practice, template_step_id)
    group = step.group
    if request.method == "GET":
        return _edit_response(request, step, group)
    (loaded,) = load_groups(request.practice, group.template, only=group)
    form = _step_form(request, step, loaded, data=request.POST)
    if form.is_valid():
        try:
            _save_step(step, form, actor=request.user)
        except TemplateError as exc:
            form.add_building_errors(exc)
        else:
            flash = f"Saved the step {step.name}."
            if not request.htmx:
                messages.success(request, flash)
                return redirect(_group_anchor(group))
            return _group_part(request, group, flash=flash)
    return _edit_response(request, step, group, form=form)


def _edit_response(
    request: HtmxHttpRequest, step: TemplateStep, group: TemplateGroup, form=None
) -> HttpResponse:
    extra = {
        "editing": step.pk,
        "preview_clients": preview_clients(request.practice),
        "token_groups": step_types.email_token_groups(step.type),
    }
    if form is not None:
        extra["step_form"] = form
    if request.htmx:
        return _group_part(request, group, **extra)
    context = _page_context(request, group.template, **extra)
    if form is None:
        loaded = next(g for g in context["groups"] if g.pk == group.pk)
        context["step_form"] = _step_form(request, step, loaded)
    return render(request, PAGE, context)


def _save_step(step: TemplateStep, form: StepForm, *, actor) -> None:
    """Apply the form through the building functions, all or nothing.

    Raises TemplateError carrying every field's problems (not only the first refusal), so the
    form shows them all at once.
    """
    errors: dict[str, list[str]] = {}
    calls = (
        lambda: building.update_step(step, actor=actor, **form.step_fields()),
        lambda: building.set_checklist(step, actor=actor, items=form.checklist_items()),
        lambda: building.set_dependencies(step, actor=actor, depends_on=form.dependencies()),
    )
    with transaction.atomic():
        for call in calls:
            try:
                call()
            except TemplateError as exc:
                for key, problems in (exc.errors or {"": [str(exc)]}).items():
                    errors.setdefault(key, []).extend(problems)
        if errors:
            raise TemplateError("The step was not saved.", errors)


@require_POST
@role_required(Perm.MANAGE_TEMPLATES)
def step_move(request: HtmxHttpRequest, template_step_id: int) -> HttpResponse:
    step = _get_step(request.practice, template_step_id)
    building.move_step(step, actor=request.user, offset=_offset(request))
    if not request.htmx:
        return redirect(_group_anchor(step.group))
    return _group_part(request, step.group)


@require_POST
@role_required(Perm.MANAGE_TEMPLATES)
def step_delete(request: HtmxHttpRequest, template_step_id: int) -> HttpResponse:
    step = _get_step(request.practice, template_step_id)
    group, name = step.group, step.name
    building.delete_step(step, actor=request.user)
    flash = f"Deleted the step {name}."
    if not request.htmx:
        messages.success(request, flash)
        return redirect(_group_anchor(group))
    return _group_part(request, group, flash=flash)
