"""Place a template's steps and groups: where a drag drops them, or the Move to group select.

`static/js/template_sort.js` posts here when a step or group is dropped; the keyboard path is
the step's Move to group form (and the up and down buttons). Both answer with the re-rendered
list of groups, with a readable error when the move is refused, so the page always shows the
order the server holds. Writes go through `workflows.ordering`.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from sodium.roles import Perm
from sodium.tenancy import role_required
from sodium.views.common import HtmxHttpRequest
from workflows import ordering
from workflows.building import TemplateError
from workflows.models import TemplateGroup
from workflows.views.templates_editor import _get_group, _get_step, _group_anchor, _groups_part

END = 1_000_000  # no index given (the Move to group select): the end of the group


def _index(request: HtmxHttpRequest) -> int:
    try:
        return max(0, min(END, int(request.POST.get("index", END))))
    except ValueError:
        return END


@require_POST
@role_required(Perm.MANAGE_TEMPLATES)
def step_place(request: HtmxHttpRequest, template_step_id: int) -> HttpResponse:
    """Put a step at a place of a group of its template (POST `group`, optional `index`)."""
    step = _get_step(request.practice, template_step_id)
    template = step.group.template
    group_id = str(request.POST.get("group") or step.group_id)
    group = get_object_or_404(
        TemplateGroup.objects.filter(practice=request.practice, template=template),
        pk=int(group_id) if group_id.isdigit() and len(group_id) <= 18 else 0,  # a bigint
    )
    moved_to_other = group.pk != step.group_id
    try:
        ordering.place_step(step, actor=request.user, group=group, index=_index(request))
    except TemplateError as exc:
        if not request.htmx:
            messages.error(request, str(exc))
            return redirect(_group_anchor(step.group))
        return _groups_part(request, template, sort_error=str(exc), moved_step=step.pk)
    flash = f"Moved {step.name} to {group.name}." if moved_to_other else f"Moved {step.name}."
    if not request.htmx:
        messages.success(request, flash)
        return redirect(_group_anchor(group))
    return _groups_part(request, template, flash=flash, moved_step=step.pk)


@require_POST
@role_required(Perm.MANAGE_TEMPLATES)
def group_place(request: HtmxHttpRequest, group_id: int) -> HttpResponse:
    """Put a group at a place among its template's groups (POST `index`)."""
    group = _get_group(request.practice, group_id)
    ordering.place_group(group, actor=request.user, index=_index(request))
    if not request.htmx:
        return redirect(_group_anchor(group))
    return _groups_part(request, group.template, flash=f"Moved the group {group.name}.")
