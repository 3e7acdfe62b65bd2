"""Sign in (a password, then a two-factor code once set up) and out, passwords, practices."""

from __future__ import annotations

import django_otp
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from sodium import lockout, ratelimit, two_factor
from sodium.forms import ResetOrInviteForm, SignInForm, TwoFactorCodeForm
from sodium.services import two_factor as two_factor_services
from sodium.tenancy import practice_required, switch_practice

# Password-reset emails allowed per address and per network address in one window: enough
# for a person who mistypes, far too few to flood an inbox or probe for accounts.
RESET_WINDOW = 15 * 60
RESET_PER_EMAIL = 3
RESET_PER_IP = 10


def _safe_next(request: HttpRequest, default: str) -> str:
    nxt = request.POST.get("next") or request.GET.get("next") or ""
    if nxt and url_has_allowed_host_and_scheme(
        nxt, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return nxt
    return default


class SignInView(auth_views.LoginView):
    template_name = "sodium/sign_in.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True

    def get_success_url(self) -> str:
        url = super().get_success_url()
        # Just signed in with a password: the session is not verified by a code yet.
        if self.request.user.two_factor_enabled:
            return reverse("sodium:two-factor-verify") + "?" + urlencode({"next": url})
        return url


def locked_out(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """Answer a sign-in refused by django-axes with when to try again (AXES_LOCKOUT_CALLABLE)."""
    until = lockout.locked_until(
        username=lockout.username_of(request, credentials),
        ip_address=getattr(request, "axes_ip_address", None) or ratelimit.client_ip(request),
    )
    response = render(request, "sodium/locked_out.html", {"until": until}, status=429)
    if until is not None:
        response["Retry-After"] = str(max(1, int((until - timezone.now()).total_seconds())))
    return response


@never_cache
@require_http_methods(["GET", "POST"])
@login_required
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    """Ask a member with two-factor sign-in for a code before their session opens staff pages."""
    nxt = _safe_next(request, reverse("sodium:dashboard"))
    if not request.user.two_factor_enabled or request.user.is_verified():
        return redirect(nxt)
    form = TwoFactorCodeForm(request.POST if request.method == "POST" else None, autofocus=True)
    if request.method == "POST" and form.is_valid():
        try:
            device = two_factor_services.check_code(request.user, form.cleaned_data["code"])
        except two_factor_services.Throttled as exc:
            form.add_error("code", two_factor.wait_message(exc.until))
        except two_factor_services.TwoFactorError as exc:
            form.add_error("code", str(exc))
        else:
            request.session.cycle_key()
            django_otp.login(request, device)
            return redirect(nxt)
    return render(request, "sodium/two_factor_verify.html", {"form": form, "next": nxt})


sign_out = auth_views.LogoutView.as_view()


class SetPasswordView(auth_views.PasswordResetConfirmView):
    template_name = "sodium/set_password.html"
    success_url = reverse_lazy("sodium:dashboard")
    post_reset_login = True
    # Two backends are configured (axes' check, then passwords): name the one that signs in.
    post_reset_login_backend = "django.contrib.auth.backends.ModelBackend"


class ForgotPasswordView(auth_views.PasswordResetView):
    template_name = "sodium/forgot_password.html"
    form_class = ResetOrInviteForm
    email_template_name = "sodium/email/password_reset.txt"
    subject_template_name = "sodium/email/password_reset_subject.txt"
    success_url = reverse_lazy("sodium:login")

    def post(self, request, *args, **kwargs):
        ip = ratelimit.client_ip(request)
        if not ratelimit.hit(f"password-reset:ip:{ip}", RESET_PER_IP, RESET_WINDOW):
            return _too_many(request)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        # Counted whether or not the address has an account, so being refused says nothing
        # about whether it does.
        email = lockout.account_key(form.cleaned_data["email"])
        if not ratelimit.hit(f"password-reset:email:{email}", RESET_PER_EMAIL, RESET_WINDOW):
            return _too_many(self.request)
        messages.success(
            self.request,
            "If that address has an account, we have emailed it a link to set a new password.",
        )
        return super().form_valid(form)


def _too_many(request: HttpRequest) -> HttpResponse:
    response = render(request, "sodium/too_many.html", {"minutes": RESET_WINDOW // 60}, status=429)
    response["Retry-After"] = str(RESET_WINDOW)
    return response


@require_POST
@practice_required
def practice_switch(request: HttpRequest) -> HttpResponse:
    try:
        practice_id = int(request.POST.get("practice", ""))
    except ValueError:
        practice_id = 0
    if not switch_practice(request, practice_id):
        messages.error(request, "You are not a member of that practice.")
    return redirect(_safe_next(request, reverse("sodium:dashboard")))
