"""Request middleware: the log context of every request, and the operator's endpoints.

`RequestContextMiddleware` (near the top) binds a request id — the caller's X-Request-ID if it
is sane, else a new one — and echoes it in the response. `RequestUserMiddleware` (after
PracticeMiddleware) binds the user and practice once known. `OpsEndpointsMiddleware` answers
/health/ and /metrics itself, ahead of sessions, authentication, tenancy, CSRF and
CommonMiddleware's host check: a probe inside the network calls web by an address that need
not be in ALLOWED_HOSTS, sends no cookie, and must get the same answer whoever asks.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from django.conf import settings
from django.core.signals import request_finished
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, JsonResponse

from sodium.observability import context, health, metrics

HEALTH_PATH = "/health/"
METRICS_PATH = "/metrics"


class RequestContextMiddleware:
    """Bind a request id to the request's log lines and echo it as X-Request-ID."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = context.sane_request_id(request.headers.get("x-request-id"))
        request_id = request_id or context.new_request_id()
        request.request_id = request_id
        context.begin(request_id)
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response


@receiver(request_finished, dispatch_uid="sodium.observability.clear_context")
def _clear_context(**kwargs) -> None:
    # After the response is sent: the lines Django logs once the middleware has returned
    # (a 404's "Not Found") still carry the request's context; nothing after this does.
    context.clear()


class RequestUserMiddleware:
    """Bind the signed-in user and the request's practice (place after PracticeMiddleware)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # PracticeMiddleware has already read request.user, so this costs no query.
        user = request.user
        if user.is_authenticated:
            context.bind_user(user.pk)
        if getattr(request, "practice", None) is not None:
            context.bind_practice(request.practice)
        return self.get_response(request)


class OpsEndpointsMiddleware:
    """Answer /health/ and /metrics before the session, auth and tenancy middlewares."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if path == HEALTH_PATH:
            return health_view(request)
        if path == METRICS_PATH:
            return metrics_view(request)
        return self.get_response(request)


def _not_allowed() -> HttpResponse:
    response = HttpResponse("Method not allowed\n", status=405, content_type="text/plain")
    response["Allow"] = "GET, HEAD"
    return response


def health_view(request: HttpRequest) -> HttpResponse:
    """Answer the checks as JSON: 200 when all pass, 503 when one fails.

    `?check=database&check=broker` runs only those (a load balancer that should keep web in
    rotation while beat is down leaves out "sweep"); an unknown name is a 400.
    """
    if request.method not in {"GET", "HEAD"}:
        return _not_allowed()
    names = request.GET.getlist("check") or None
    if names and not set(names) <= set(health.CHECKS):
        return JsonResponse({"error": f"checks are {', '.join(health.CHECKS)}"}, status=400)
    result = health.run_checks(names)
    body = {"status": "ok" if result["ok"] else "fail", "checks": result["checks"]}
    response = HttpResponse(
        json.dumps(body), status=200 if result["ok"] else 503, content_type="application/json"
    )
    response["Cache-Control"] = "no-store"
    # A failed check is logged once, as a warning, by the check; without this Django would
    # log every failing probe (every 15 s) as an ERROR, and Sentry would get each one.
    response._has_been_logged = True
    return response


def metrics_view(request: HttpRequest) -> HttpResponse:
    """Serve Prometheus metrics to a caller with the bearer token; 404 while none is set."""
    token = settings.SODIUM_METRICS_TOKEN
    if not token:
        return HttpResponse("Not found\n", status=404, content_type="text/plain")
    if request.method not in {"GET", "HEAD"}:
        return _not_allowed()
    if not metrics.authorised(request.headers.get("authorization"), token):
        response = HttpResponse("Unauthorised\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    response = HttpResponse(
        metrics.render(app=True), content_type=metrics.prometheus_client.CONTENT_TYPE_LATEST
    )
    response["Cache-Control"] = "no-store"
    return response
