"""A staff member's everyday pages under the CSP, with axe watching (see conftest.py).

Signs in (the "Forgotten your password?" link is a full-size target), tabs to a dashboard
figure (its focus ring shows), reads an email on the Messages page (the HTML version renders
in its sandboxed frame), and is refused the practice settings on a 403 page that keeps the
navigation and the practice's brand.

Screenshots: var/screenshots/staff_*_<width>.png.
"""

from __future__ import annotations

import pytest
from django_scopes import scopes_disabled

from sodium.models import OutboundMessage
from sodium.roles import Role
from tests import factories as f

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-for-tests-1"


@pytest.fixture
def world():
    with scopes_disabled():
        practice = f.PracticeFactory(name="Hartley & Finch Accountants", slug="hartley-finch")
        sam = f.MembershipFactory(
            practice=practice,
            role=Role.STAFF,
            user=f.UserFactory(full_name="Sam Carter", email="sam@hartleyfinch.example"),
        ).user
        sam.set_password(PASSWORD)
        sam.save()
        acme = f.ClientFactory(practice=practice, name="Acme Trading Ltd")
        message = OutboundMessage.objects.create(
            practice=practice,
            idempotency_key="journey",
            to=["ann@acme.example"],
            subject="Your bank statements",
            body_text="Dear Ann,\n\nPlease send your bank statements.",
            body_html="<p>Dear Ann,</p><p>Please send your <b>bank statements</b>.</p>"
            "<script>document.body.textContent = 'script ran'</script>",
            client=acme,
        )
    return {"practice": practice, "message": message}


@pytest.mark.parametrize("width", [1280, 390])
def test_staff_sign_in_read_a_message_and_meet_a_403(
    live_server, browser, screenshot, world, width
):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server.url}/sign-in/")
    forgot = page.get_by_role("link", name="Forgotten your password?")
    assert forgot.bounding_box()["height"] >= 24
    screenshot(page, "staff_sign_in")
    page.get_by_label("Email").fill("sam@hartleyfinch.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")

    # Keyboard focus on a figure tile draws a solid ring.
    tile = page.locator("a.stat").first
    tile.focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    assert tile.evaluate("el => el === document.activeElement")
    ring = tile.evaluate(
        "el => { const s = getComputedStyle(el); return [s.outlineStyle, s.outlineWidth]; }"
    )
    assert ring == ["solid", "3px"]
    screenshot(page, "staff_dashboard_focus")

    # The HTML version of an email renders in its sandboxed frame, its script refused.
    page.goto(f"{live_server.url}/messages/{world['message'].pk}/")
    frame = page.frame_locator("iframe.message-html")
    frame.get_by_text("Please send your").wait_for()
    assert "script ran" not in frame.locator("body").inner_text()
    page.locator("iframe.message-html").scroll_into_view_if_needed()
    shot = screenshot(page, "staff_message_detail")
    # Full-page shots leave the (sandboxed) frame blank: shoot it alone too.
    page.locator("iframe.message-html").screenshot(
        path=str(shot.with_name(f"staff_message_frame_{width}.png"))
    )

    # A page the role does not allow: 403 inside the shell, with the practice's brand.
    response = page.goto(f"{live_server.url}/settings/practice/")
    assert response.status == 403
    assert page.get_by_role("heading", name="You can't do that here").is_visible()
    brand = page.locator(".topbar .brand-name")
    assert brand.inner_text() == "Hartley & Finch Accountants"
    # At 390 px the name wraps rather than being cut off.
    assert brand.evaluate("el => el.scrollWidth <= el.clientWidth")
    assert brand.evaluate("el => el.scrollHeight <= el.clientHeight + 1")
    screenshot(page, "staff_forbidden")
    context.close()
