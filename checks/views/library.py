"""The check library: the built-in checks with their default rules, and the practice's own
custom checks (added, changed, archived by managers), which flows can include."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from checks import custom_checks, queries
from checks import rules as builtin
from checks.forms import CustomCheckForm
from sodium.roles import Perm, role_can
from sodium.tenancy import role_required
from sodium.views.common import HtmxHttpRequest


def _rule_defaults(check) -> list[tuple[str, object]]:
    """The check's rules and their defaults, as (name in words, value) pairs."""
    rules = check.default_rules()
    return [
        (f.name.replace("_", " ").capitalize(), _shown(getattr(rules, f.name)))
        for f in dataclasses.fields(rules)
    ]


def _shown(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):  # money: the rules hold amounts in pounds
        return f"£{value:,.2f}".removesuffix(".00")
    if isinstance(value, (list, tuple, frozenset, set)):
        return ", ".join(str(v) for v in value) or "none"
    return str(value)


def _can_manage(request: HtmxHttpRequest) -> bool:
    return role_can(getattr(request.membership, "role", None), Perm.MANAGE_TEMPLATES)


@require_GET
@role_required(Perm.VIEW_PRACTICE)
def library(request: HtmxHttpRequest) -> HttpResponse:
    can_manage = _can_manage(request)
    return render(
        request,
        "checks/check_library.html",
        {
            "builtin": [(c, _rule_defaults(c)) for c in builtin.CHECKS],
            "custom": queries.custom_checks(request.practice),
            "form": CustomCheckForm(practice=request.practice) if can_manage else None,
            "can_manage": can_manage,
        },
    )


@require_POST
@role_required(Perm.MANAGE_TEMPLATES)
def custom_add(request: HtmxHttpRequest) -> HttpResponse:
    form = CustomCheckForm(request.POST, practice=request.practice)
    if form.is_valid():
        check = custom_checks.create_custom_check(
            practice=request.practice, actor=request.user, **form.cleaned_data
        )
        messages.success(request, f"Added the custom check {check.name}.")
        return redirect("checks:library")
    return render(
        request,
        "checks/check_library.html",
        {
            "builtin": [(c, _rule_defaults(c)) for c in builtin.CHECKS],
            "custom": queries.custom_checks(request.practice),
            "form": form,
            "can_manage": True,
        },
    )


@require_http_methods(["GET", "POST"])
@role_required(Perm.MANAGE_TEMPLATES)
def custom_edit(request: HtmxHttpRequest, check_id: int) -> HttpResponse:
    check = queries.get_custom_check(request.practice, check_id)
    form = CustomCheckForm(
        request.POST if request.method == "POST" else None,
        instance=check,
        practice=request.practice,
    )
    if request.method == "POST" and form.is_valid():
        check = queries.get_custom_check(request.practice, check_id)
        custom_checks.update_custom_check(check, actor=request.user, **form.cleaned_data)
        messages.success(request, f"Saved {check.name}.")
        return redirect("checks:library")
    return render(request, "checks/custom_check_form.html", {"form": form, "check": check})


@require_POST
@role_required(Perm.MANAGE_TEMPLATES)
def custom_archive(request: HtmxHttpRequest, check_id: int) -> HttpResponse:
    check = queries.get_custom_check(request.practice, check_id)
    archived = request.POST.get("archived") != "false"
    custom_checks.set_custom_check_archived(check, actor=request.user, archived=archived)
    verb = "Archived" if archived else "Restored"
    messages.success(request, f"{verb} {check.name}.")
    return redirect("checks:library")
