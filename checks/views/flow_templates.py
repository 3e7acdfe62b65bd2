"""Flow templates: the list (built-in copies and the practice's own), add, edit, archive."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from checks.flows import creator, editing, making, queries
from checks.flows import creator_forms as stage_forms
from checks.models import FlowTemplate
from sodium.roles import Perm
from sodium.tenancy import role_required
from sodium.views.common import HtmxHttpRequest

FORM = "checks/flows/template_form.html"


@require_GET
@role_required(Perm.MANAGE_FLOWS)
def template_list(request: HtmxHttpRequest) -> HttpResponse:
    found = queries.flow_templates(request.practice, include_archived=True)
    return render(
        request,
        "checks/flows/template_list.html",
        {
            "templates": [t for t in found if not t.archived],
            "archived": [t for t in found if t.archived],
        },
    )


def _form_page(
    request: HtmxHttpRequest, form: stage_forms.TemplateForm, template: FlowTemplate | None
) -> HttpResponse:
    context: dict[str, Any] = {
        "form": form,
        "template": template,
        "picker": stage_forms.check_picker(form, form.ctx),
    }
    return render(request, FORM, context)


def _save(request: HtmxHttpRequest, template: FlowTemplate | None) -> HttpResponse:
    ctx = creator.CreatorContext.of(request.practice)
    data = request.POST.copy()
    if data.get("move"):
        data.setlist("checks", stage_forms.moved(data.getlist("checks"), data["move"]))
        return _form_page(request, stage_forms.TemplateForm(data, ctx=ctx), template)
    form = stage_forms.TemplateForm(data, ctx=ctx)
    if form.is_valid():
        fields = {k: form.cleaned_data[k] for k in ("name", "description", "category", "checks")}
        try:
            if template is None:
                template = editing.create_template(request.practice, actor=request.user, **fields)
                messages.success(request, f"Added the flow template {template.name}.")
            else:
                template = editing.update_template(template, actor=request.user, **fields)
                messages.success(request, f"Saved the flow template {template.name}.")
            return redirect("checks:flow-templates")
        except making.FlowError as exc:
            for key, message in exc.errors.items():
                form.add_error(key if key in form.fields else None, message)
    return _form_page(request, form, template)


@require_http_methods(["GET", "POST"])
@role_required(Perm.MANAGE_FLOWS)
def template_add(request: HtmxHttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _save(request, None)
    ctx = creator.CreatorContext.of(request.practice)
    return _form_page(
        request, stage_forms.TemplateForm(ctx=ctx, initial={"category": "other"}), None
    )


@require_http_methods(["GET", "POST"])
@role_required(Perm.MANAGE_FLOWS)
def template_edit(request: HtmxHttpRequest, flow_template_id: int) -> HttpResponse:
    template = queries.get_flow_template(request.practice, flow_template_id)
    if request.method == "POST":
        return _save(request, template)
    ctx = creator.CreatorContext.of(request.practice)
    initial = {
        "name": template.name,
        "description": template.description,
        "category": template.category,
        "checks": [c.ref for c in template.checks.all()],
    }
    return _form_page(request, stage_forms.TemplateForm(ctx=ctx, initial=initial), template)


@require_POST
@role_required(Perm.MANAGE_FLOWS)
def template_archive(request: HtmxHttpRequest, flow_template_id: int) -> HttpResponse:
    template = queries.get_flow_template(request.practice, flow_template_id)
    editing.archive_template(template, actor=request.user)
    messages.success(request, f"Archived the flow template {template.name}.")
    return redirect("checks:flow-templates")
