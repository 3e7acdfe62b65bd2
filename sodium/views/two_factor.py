"""The member's two-factor sign-in: set up an authenticator app, backup codes, turn it off."""

from __future__ import annotations

import django_otp
from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from sodium import two_factor
from sodium.forms import TwoFactorCodeForm
from sodium.roles import Perm
from sodium.services import two_factor as services
from sodium.tenancy import role_required, two_factor_setup_view
from sodium.views.common import HtmxHttpRequest

# New backup codes wait in the member's browser, in a signed cookie for the two-factor pages
# only, until the member says they have kept them: shown on one page, downloadable from it,
# never shown again. Not in the session: sessions live in the database, which keeps no usable
# code (the device stores digests).
CODES_COOKIE = "sodium_new_backup_codes"
CODES_PATH = "/account/two-factor/"
CODES_SECONDS = 15 * 60


def _salt(request: HttpRequest) -> str:
    return f"sodium.two_factor.codes:{request.user.pk}"


def _keep_codes(request: HttpRequest, response: HttpResponse, codes: list[str]) -> HttpResponse:
    response.set_signed_cookie(
        CODES_COOKIE,
        " ".join(codes),
        salt=_salt(request),
        max_age=CODES_SECONDS,
        path=CODES_PATH,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Strict",
    )
    return response


def _kept_codes(request: HttpRequest) -> list[str]:
    try:
        value = request.get_signed_cookie(CODES_COOKIE, salt=_salt(request), max_age=CODES_SECONDS)
    except (KeyError, signing.BadSignature):
        return []
    return value.split()


def _forget_codes(response: HttpResponse) -> HttpResponse:
    response.delete_cookie(CODES_COOKIE, path=CODES_PATH, samesite="Strict")
    return response


def _set_up_form(data=None) -> TwoFactorCodeForm:
    return TwoFactorCodeForm(
        data, label="Code from the app", help_text="The 6 digits it shows for Sodium now."
    )


def _turn_off_form(data=None) -> TwoFactorCodeForm:
    return TwoFactorCodeForm(
        data, label="Current code", help_text="From your app, or one of your backup codes."
    )


def _error(exc: services.TwoFactorError) -> str:
    return two_factor.wait_message(exc.until) if isinstance(exc, services.Throttled) else str(exc)


@never_cache
@require_GET
@role_required(Perm.VIEW_PRACTICE)
@two_factor_setup_view
def two_factor_page(request: HtmxHttpRequest) -> HttpResponse:
    user = request.user
    context = {
        "required": two_factor.required_by(user),
        "pending": None,
        "form": _turn_off_form() if user.two_factor_enabled else _set_up_form(),
    }
    if not user.two_factor_enabled:
        pending = two_factor.pending_device(user)
        if pending is not None:
            context.update(
                pending=pending,
                qr_svg=two_factor.qr_svg(pending),
                secret=two_factor.secret_text(pending),
            )
    else:
        context["backup_left"] = two_factor.backup_codes_left(user)
    return render(request, "sodium/two_factor.html", context)


@require_POST
@role_required(Perm.VIEW_PRACTICE)
@two_factor_setup_view
def two_factor_start(request: HtmxHttpRequest) -> HttpResponse:
    try:
        services.start_setup(request.user)
    except services.TwoFactorError as exc:
        messages.error(request, str(exc))
    return redirect("sodium:two-factor")


@require_POST
@role_required(Perm.VIEW_PRACTICE)
@two_factor_setup_view
def two_factor_confirm(request: HtmxHttpRequest) -> HttpResponse:
    form = _set_up_form(request.POST)
    if form.is_valid():
        try:
            device, codes = services.confirm_setup(request.user, code=form.cleaned_data["code"])
        except services.TwoFactorError as exc:
            form.add_error("code", _error(exc))
        else:
            request.session.cycle_key()
            django_otp.login(request, device)
            messages.success(request, "Two-factor sign-in is on.")
            return _keep_codes(request, redirect("sodium:two-factor-codes"), codes)
    pending = two_factor.pending_device(request.user)
    if pending is None:
        messages.error(request, "Start the set-up again: this page was out of date.")
        return redirect("sodium:two-factor")
    return render(
        request,
        "sodium/two_factor.html",
        {
            "required": two_factor.required_by(request.user),
            "pending": pending,
            "qr_svg": two_factor.qr_svg(pending),
            "secret": two_factor.secret_text(pending),
            "form": form,
        },
    )


@never_cache
@require_GET
@role_required(Perm.VIEW_PRACTICE)
def two_factor_codes(request: HtmxHttpRequest) -> HttpResponse:
    codes = _kept_codes(request)
    if not codes:
        messages.info(request, "Backup codes are shown only once. Make new ones if you need them.")
        return redirect("sodium:two-factor")
    return render(request, "sodium/two_factor_codes.html", {"codes": codes})


@never_cache
@require_GET
@role_required(Perm.VIEW_PRACTICE)
def two_factor_codes_download(request: HtmxHttpRequest) -> HttpResponse:
    codes = _kept_codes(request)
    if not codes:
        return redirect("sodium:two-factor")
    body = (
        f"Sodium backup codes for {request.user.email}\n"
        "Each code signs you in once when you cannot use your authenticator app.\n\n"
        + "\n".join(codes)
        + "\n"
    )
    response = HttpResponse(body, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="sodium-backup-codes.txt"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_POST
@role_required(Perm.VIEW_PRACTICE)
def two_factor_codes_done(request: HtmxHttpRequest) -> HttpResponse:
    return _forget_codes(redirect("sodium:two-factor"))


@require_POST
@role_required(Perm.VIEW_PRACTICE)
def two_factor_codes_new(request: HtmxHttpRequest) -> HttpResponse:
    try:
        codes = services.regenerate_backup_codes(request.user)
    except services.TwoFactorError as exc:
        messages.error(request, str(exc))
        return redirect("sodium:two-factor")
    messages.success(request, "New backup codes made; the old ones no longer work.")
    return _keep_codes(request, redirect("sodium:two-factor-codes"), codes)


@require_POST
@role_required(Perm.VIEW_PRACTICE)
def two_factor_disable(request: HtmxHttpRequest) -> HttpResponse:
    form = _turn_off_form(request.POST)
    if form.is_valid():
        try:
            services.disable(request.user, code=form.cleaned_data["code"])
        except services.TwoFactorError as exc:
            messages.error(request, _error(exc))
        else:
            messages.success(request, "Two-factor sign-in is off.")
            return _forget_codes(redirect("sodium:two-factor"))
    else:
        messages.error(request, "Enter a code to turn two-factor sign-in off.")
    return redirect("sodium:two-factor")
