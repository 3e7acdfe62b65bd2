"""Practice settings: members and roles, teams, the service catalogue, tags and branding."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sodium import lockout, queries
from sodium.forms import (
    MemberAddForm,
    MemberRemoveForm,
    MemberRoleForm,
    PracticeSettingsForm,
    ServiceForm,
    TagForm,
    TeamForm,
)
from sodium.models import Practice, Service, Tag, Team, User
from sodium.roles import Perm, Role, grantable_roles, role_can, roles_table
from sodium.services import clients as client_services
from sodium.services import members as member_services
from sodium.services import practices as practice_services
from sodium.services import two_factor as two_factor_services
from sodium.tenancy import role_required
from sodium.uploads import content_type_for_logo
from sodium.views.common import HtmxHttpRequest


def _invite_link(request: HtmxHttpRequest, user: User) -> str:
    path = reverse(
        "sodium:set-password",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    return request.build_absolute_uri(path)


@require_http_methods(["GET", "POST"])
@role_required(Perm.MANAGE_MEMBERS)
def member_list(request: HtmxHttpRequest) -> HttpResponse:
    practice, me = request.practice, request.membership
    form = MemberAddForm(
        request.POST if request.method == "POST" else None, practice=practice, actor_role=me.role
    )
    if request.method == "POST" and form.is_valid():
        try:
            membership, created = member_services.add_member(
                practice=practice, actor=me, **form.cleaned_data
            )
        except member_services.MemberError as exc:
            form.add_error("email", str(exc))
        else:
            user = membership.user
            if created:
                link = _invite_link(request, user)
                send_mail(
                    f"You have been added to {practice.name}",
                    f"{request.user} added you to {practice.name} on Sodium.\n\n"
                    f"Choose your password here: {link}\n",
                    None,
                    [user.email],
                )
                messages.success(
                    request, f"Added {user}. We emailed them a link to choose a password."
                )
            else:
                messages.success(request, f"Added {user}; they can sign in with their account.")
            return redirect("sodium:member-list")
    memberships = list(queries.memberships_for_list(practice))
    can_unlock = role_can(me.role, Perm.MANAGE_SECURITY)
    if can_unlock:
        locked = lockout.locked_accounts([m.user.email for m in memberships])
        held = two_factor_services.throttled_users([m.user for m in memberships])
        for m in memberships:
            m.locked_until = locked.get(m.user.email)
            m.codes_held = m.user_id in held
    return render(
        request,
        "sodium/member_list.html",
        {
            "memberships": memberships,
            "form": form,
            "role_choices": grantable_roles(me.role),
            "can_unlock": can_unlock,
            "roles_table": roles_table(),
            "role_labels": Role.labels,
        },
    )


@require_POST
@role_required(Perm.MANAGE_MEMBERS)
def member_role(request: HtmxHttpRequest, membership_id: int) -> HttpResponse:
    membership = queries.get_membership(request.practice, membership_id)
    form = MemberRoleForm(request.POST, actor_role=request.membership.role)
    if not form.is_valid():
        messages.error(request, "Your role cannot give that role.")
        return redirect("sodium:member-list")
    try:
        membership = member_services.change_role(
            membership, actor=request.membership, role=form.cleaned_data["role"]
        )
    except member_services.MemberError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, f"{membership.user} is now {membership.get_role_display().lower()}."
        )
    return redirect("sodium:member-list")


@require_POST
@role_required(Perm.MANAGE_SECURITY)
def member_unlock(request: HtmxHttpRequest, membership_id: int) -> HttpResponse:
    membership = queries.get_membership(request.practice, membership_id)
    try:
        member_services.unlock_member(membership, actor=request.membership)
    except member_services.MemberError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{membership.user} can sign in again.")
    return redirect("sodium:member-list")


@require_POST
@role_required(Perm.MANAGE_SECURITY)
def member_two_factor_reset(request: HtmxHttpRequest, membership_id: int) -> HttpResponse:
    membership = queries.get_membership(request.practice, membership_id)
    try:
        member_services.reset_member_two_factor(membership, actor=request.membership)
    except member_services.MemberError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            f"Two-factor sign-in is reset for {membership.user}: they sign in with their "
            "password and set it up again.",
        )
    return redirect("sodium:member-list")


@require_http_methods(["GET", "POST"])
@role_required(Perm.MANAGE_MEMBERS)
def member_remove(request: HtmxHttpRequest, membership_id: int) -> HttpResponse:
    membership = queries.get_membership(request.practice, membership_id)
    workload = member_services.workload_of(membership)
    form = MemberRemoveForm(
        request.POST if request.method == "POST" else None,
        practice=request.practice,
        leaving=membership.user,
    )
    if request.method == "POST" and form.is_valid():
        try:
            member_services.remove_member(
                membership,
                actor=request.membership,
                reassign_to=form.cleaned_data["reassign_to"],
            )
        except member_services.MemberError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Removed {membership.user} from {request.practice.name}.")
            return redirect("sodium:member-list")
    return render(
        request,
        "sodium/member_remove.html",
        {"member": membership, "workload": workload, "form": form},
    )


@require_GET
@role_required(Perm.MANAGE_SERVICES)
def team_list(request: HtmxHttpRequest) -> HttpResponse:
    teams = Team.objects.filter(practice=request.practice).prefetch_related("members")
    return render(request, "sodium/team_list.html", {"teams": teams})


@require_http_methods(["GET", "POST"])
@role_required(Perm.MANAGE_SERVICES)
def team_edit(request: HtmxHttpRequest, team_id: int | None = None) -> HttpResponse:
    team = queries.get_team(request.practice, team_id) if team_id else None
    initial = {"name": team.name, "members": list(team.members.all())} if team else None
    form = TeamForm(
        request.POST if request.method == "POST" else None,
        practice=request.practice,
        team=team,
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        team = member_services.save_team(
            practice=request.practice, actor=request.user, team=team, **form.cleaned_data
        )
        messages.success(request, f"Saved the team {team.name}.")
        return redirect("sodium:team-list")
    return render(request, "sodium/team_form.html", {"form": form, "team": team})


@require_POST
@role_required(Perm.MANAGE_SERVICES)
def team_delete(request: HtmxHttpRequest, team_id: int) -> HttpResponse:
    team = queries.get_team(request.practice, team_id)
    member_services.delete_team(team, actor=request.user)
    messages.success(request, f"Deleted the team {team.name}.")
    return redirect("sodium:team-list")


@require_http_methods(["GET", "POST"])
@role_required(Perm.MANAGE_SERVICES)
def service_list(request: HtmxHttpRequest) -> HttpResponse:
    form = ServiceForm(
        request.POST if request.method == "POST" else None, practice=request.practice
    )
    if request.method == "POST" and form.is_valid():
        service = client_services.create_service(
            practice=request.practice, actor=request.user, **form.cleaned_data
        )
        messages.success(request, f"Added {service.name} to the catalogue.")
        return redirect("sodium:service-list")
    services = Service.objects.filter(practice=request.practice).select_related("default_team")
    return render(request, "sodium/service_list.html", {"services": services, "form": form})


@require_http_methods(["GET", "POST"])
@role_required(Perm.MANAGE_SERVICES)
def service_edit(request: HtmxHttpRequest, service_id: int) -> HttpResponse:
    service = queries.get_service(request.practice, service_id)
    form = ServiceForm(
        request.POST if request.method == "POST" else None,
        instance=service,
        practice=request.practice,
    )
    if request.method == "POST" and form.is_valid():
        service = queries.get_service(request.practice, service_id)
        client_services.update_service(service, actor=request.user, **form.cleaned_data)
        messages.success(request, f"Saved {service.name}.")
        return redirect("sodium:service-list")
    return render(request, "sodium/service_form.html", {"form": form, "service": service})


@require_http_methods(["GET", "POST"])
@role_required(Perm.MANAGE_SERVICES)
def tag_list(request: HtmxHttpRequest) -> HttpResponse:
    form = TagForm(request.POST if request.method == "POST" else None, practice=request.practice)
    if request.method == "POST" and form.is_valid():
        tag = client_services.create_tag(
            practice=request.practice, actor=request.user, **form.cleaned_data
        )
        messages.success(request, f"Added the tag {tag.name}.")
        return redirect("sodium:tag-list")
    return render(
        request,
        "sodium/tag_list.html",
        {"tags": Tag.objects.filter(practice=request.practice), "form": form},
    )


@require_POST
@role_required(Perm.MANAGE_SERVICES)
def tag_delete(request: HtmxHttpRequest, tag_id: int) -> HttpResponse:
    tag = queries.get_tag(request.practice, tag_id)
    client_services.delete_tag(tag, actor=request.user)
    messages.success(request, f"Deleted the tag {tag.name}.")
    return redirect("sodium:tag-list")


@require_http_methods(["GET", "POST"])
@role_required(Perm.MANAGE_PRACTICE)
def practice_settings(request: HtmxHttpRequest) -> HttpResponse:
    practice = Practice.objects.get(pk=request.practice.pk)
    form = PracticeSettingsForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
        instance=practice,
        can_require_two_factor=role_can(request.membership.role, Perm.MANAGE_SECURITY),
    )
    if request.method == "POST" and form.is_valid():
        fresh = Practice.objects.get(pk=practice.pk)
        practice_services.update_practice(fresh, actor=request.user, **form.cleaned_data)
        messages.success(request, "Saved the practice settings.")
        return redirect("sodium:practice-settings")
    return render(request, "sodium/practice_settings.html", {"form": form})


@require_GET
def practice_logo(request: HtmxHttpRequest, slug: str) -> HttpResponse:
    """Serve a practice's logo (public: it appears in emails and on the portal)."""
    practice = get_object_or_404(Practice, slug=slug)
    if not practice.logo:
        raise Http404("No logo")
    response = FileResponse(
        practice.logo.open("rb"), content_type=content_type_for_logo(practice.logo.name)
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "public, max-age=300"
    return response
