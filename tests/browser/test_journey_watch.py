"""The journeys' watch (tests/browser/conftest.py) catches CSP violations and axe findings.

A page served through Playwright's router with a strict policy breaks it twice (an inline
script and a style attribute) and has an image without alt text; the watch must report all of
it. The findings are then cleared, so this test fails only if the watch missed something.
"""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser]

POLICY = "default-src 'self'; script-src 'self'; style-src 'self'"
PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Watch test</title>
</head><body><main><h1>Watch test</h1>
<p style="color: red">Styled inline</p>
<script>document.title = "inline ran";</script>
<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
</main></body></html>"""


def test_the_watch_reports_csp_violations_and_serious_axe_findings(
    browser, screenshot, journey_watch
):
    context = browser.new_context(viewport={"width": 800, "height": 600})
    context.route(
        "http://watch.test/**",
        lambda route: route.fulfill(
            status=200,
            headers={"Content-Type": "text/html", "Content-Security-Policy": POLICY},
            body=PAGE,
        ),
    )
    page = context.new_page()
    page.goto("http://watch.test/")
    assert page.title() == "Watch test"  # the inline script was refused
    screenshot(page, "journey_watch")
    found = "\n".join(journey_watch.problems)
    journey_watch.problems.clear()
    context.close()
    journey_watch.problems.clear()  # close checks again
    assert "script-src" in found
    assert "style-src" in found
    assert "axe critical image-alt" in found
