from __future__ import annotations

from django.urls import path

from portal.views import access, home, items

app_name = "portal"

urlpatterns = [
    path("", home.home, name="home"),
    path("sign-out/", access.sign_out, name="sign-out"),
    path("link/<str:token>/", access.link, name="link"),
    path("<slug:practice_slug>/sign-in/", access.sign_in, name="sign-in"),
    path("items/<int:step_id>/", items.item, name="item"),
    path("items/<int:step_id>/submit/", items.submit, name="submit"),
    path("items/<int:step_id>/respond/", items.respond, name="respond"),
    path("items/<int:step_id>/confirm/", items.confirm_signed_in, name="confirm-signed-in"),
    path("confirm/<str:token>/", items.confirm, name="confirm"),
    path("documents/<int:document_id>/", items.document, name="document"),
]
