"""The Liquid variables as data, for the editors' token picker."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from sodium.roles import Perm
from sodium.tenancy import role_required
from workflows.context import VARIABLES


@require_GET
@role_required(Perm.VIEW_PRACTICE)
def liquid_variables(request: HttpRequest) -> JsonResponse:
    """Return every Liquid variable with its description and example, for the token picker."""
    return JsonResponse(
        {
            "variables": [
                {
                    "path": v.path,
                    "token": f"{{{{ {v.path} }}}}",
                    "description": v.description,
                    "example": v.example,
                }
                for v in VARIABLES
            ]
        }
    )
