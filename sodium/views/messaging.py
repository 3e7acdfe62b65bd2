"""Messaging pages of the core: the variables of a message use, for the token picker."""

from __future__ import annotations

from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from sodium.messaging import variables
from sodium.roles import Perm
from sodium.tenancy import role_required


@require_GET
@role_required(Perm.VIEW_PRACTICE)
def liquid_variables(request: HttpRequest) -> JsonResponse:
    """Return the variables of `?use=<key>` (every variable without one), for the picker."""
    key = request.GET.get("use") or None
    try:
        rows = variables.picker_data(key)
    except LookupError:
        raise Http404("No such message use.") from None
    return JsonResponse({"use": key, "variables": rows})
