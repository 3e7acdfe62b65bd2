"""Sign in and out, set a password from an invitation, and switch practice."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from sodium.forms import ResetOrInviteForm, SignInForm
from sodium.tenancy import switch_practice


class SignInView(auth_views.LoginView):
    template_name = "sodium/sign_in.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True


sign_out = auth_views.LogoutView.as_view()


class SetPasswordView(auth_views.PasswordResetConfirmView):
    template_name = "sodium/set_password.html"
    success_url = reverse_lazy("sodium:dashboard")
    post_reset_login = True


class ForgotPasswordView(auth_views.PasswordResetView):
    template_name = "sodium/forgot_password.html"
    form_class = ResetOrInviteForm
    email_template_name = "sodium/email/password_reset.txt"
    subject_template_name = "sodium/email/password_reset_subject.txt"
    success_url = reverse_lazy("sodium:login")

    def form_valid(self, form):
        messages.success(
            self.request,
            "If that address has an account, we have emailed it a link to set a new password.",
        )
        return super().form_valid(form)


@require_POST
@login_required
def practice_switch(request: HttpRequest) -> HttpResponse:
    try:
        practice_id = int(request.POST.get("practice", ""))
    except ValueError:
        practice_id = 0
    if not switch_practice(request, practice_id):
        messages.error(request, "You are not a member of that practice.")
    nxt = request.POST.get("next", "")
    if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        return redirect(nxt)
    return redirect("sodium:dashboard")
