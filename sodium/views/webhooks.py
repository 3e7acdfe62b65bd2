"""Provider callbacks that are not anymail's: Twilio's SMS delivery status."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from sodium.sms import messages as sms
from sodium.sms.twilio import is_valid_signature


# CSRF-exempt: Twilio cannot hold our token; its HMAC signature authenticates the request.
@csrf_exempt
@require_POST
def twilio_status(request: HttpRequest) -> HttpResponse:
    # Twilio signs the URL it was given (SITE_URL + path), which is not what a proxied
    # request's Host may say.
    url = settings.SITE_URL + request.get_full_path()
    params = {name: request.POST.getlist(name) for name in request.POST}
    given = request.headers.get("X-Twilio-Signature", "")
    if not is_valid_signature(url, params, settings.TWILIO_AUTH_TOKEN, given):
        return HttpResponseForbidden("Bad signature.")
    sms.record_status(
        request.POST.get("MessageSid", ""),
        request.POST.get("MessageStatus", ""),
        request.POST.get("ErrorCode", ""),
    )
    return HttpResponse(status=204)
