"""Playwright in Debian's chromium (never a downloaded browser) against pytest's live server.

Every journey is also a check of the Content-Security-Policy and of accessibility: the
`browser` fixture hands out contexts that are watched. A journey fails when
- any page reports a CSP violation (Chrome's "Refused to …" console errors, or a
  `securitypolicyviolation` event, which an init script turns into a console error), or
- axe-core finds a serious or critical violation on a page: axe runs at every `screenshot`,
  after every `page.goto`, when a context is closed, at the end of the journey on pages still
  open, and wherever a journey calls the `axe` fixture — once for each state of a page (its
  address and markup): a check of a page unchanged since its last one is skipped.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from django.conf import settings

CHROMIUM = os.environ.get("SODIUM_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Axe impacts that fail a journey (minor and moderate ones are left to review).
FAILING_IMPACTS = {"serious", "critical"}
# The email previews are sandboxed frames holding a client's email, not our pages' markup.
# target-size (WCAG 2.2's 2.5.8, 24×24 px) is off in axe by default; it is on here.
AXE_OPTIONS = {
    "resultTypes": ["violations"],
    "iframes": False,
    "rules": {"target-size": {"enabled": True}},
}
CSP_MARKERS = ("Content Security Policy", "Refused to", "CSP violation")

# Runs in every document (frames too) before its own scripts; init scripts are not subject to
# the page's policy.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", function (e) {
  console.error("CSP violation: " + e.violatedDirective + " blocked " + (e.blockedURI || "inline")
    + " at " + e.sourceFile + ":" + e.lineNumber + " " + (e.sample || ""));
});
"""
AXE_CLEANUP = """document.querySelectorAll('[style=""]').forEach(e => e.removeAttribute("style"))"""
PAGE_STATE = "() => location.href + '\\n' + document.documentElement.outerHTML"


class JourneyWatch:
    """Collect CSP violations and axe findings of every page a journey's contexts open."""

    def __init__(self) -> None:
        from axe_playwright_python.sync_playwright import Axe

        self.axe_runner = Axe()
        self.contexts: list = []
        self.problems: list[str] = []
        # Contexts opened with java_script_enabled=False: axe is a script, so it cannot run
        # there (Playwright's evaluate would wait for ever); their pages get the CSP watch only.
        self.scriptless: list = []
        self.checked: dict = {}  # page → the state (address and markup) axe last saw

    def watch(self, context, *, scripts: bool = True) -> None:
        self.contexts.append(context)
        if not scripts:
            self.scriptless.append(context)
        context.add_init_script(script=REPORT_VIOLATIONS)
        context.on("console", self._on_console)
        context.on("page", self._wrap_goto)
        close = context.close

        def close_after_checks(*args, **kwargs):
            self.check_open_pages(context, "before the context closed")
            return close(*args, **kwargs)

        context.close = close_after_checks

    def _wrap_goto(self, page) -> None:
        # Each page the journey navigates to is checked once it has loaded. (An event handler
        # must not call Playwright itself, so this only wraps the method.)
        goto = page.goto

        def goto_then_check(url, *args, **kwargs):
            response = goto(url, *args, **kwargs)
            self.axe(page, f"goto {url}")
            return response

        page.goto = goto_then_check

    def _on_console(self, message) -> None:
        text = message.text
        if any(marker in text for marker in CSP_MARKERS):
            self.problems.append(f"CSP: {text} (on {message.page.url if message.page else '?'})")

    def axe(self, page, where: str) -> None:
        """Run axe-core on `page` and record its serious and critical violations."""
        if page.is_closed() or page.url in ("", "about:blank"):
            return
        if any(page.context is context for context in self.scriptless):
            return
        # A page whose address and markup have not changed since its last check would give
        # the same findings (a screenshot right after a goto, a close after the last step):
        # axe is the journeys' main cost, so it runs once per state a page is in.
        state = hashlib.sha1(page.evaluate(PAGE_STATE).encode()).hexdigest()
        if self.checked.get(page) == state:
            return
        results = self.axe_runner.run(page, options=AXE_OPTIONS)
        # axe touches element.style while it measures and leaves style="" behind; htmx would
        # copy that attribute onto swapped-in elements, which the CSP then (rightly) refuses.
        page.evaluate(AXE_CLEANUP)
        self.checked[page] = hashlib.sha1(page.evaluate(PAGE_STATE).encode()).hexdigest()
        for violation in results.response["violations"]:
            if violation["impact"] not in FAILING_IMPACTS:
                continue
            nodes = "; ".join(
                f"{', '.join(map(str, node['target']))}: {node.get('failureSummary', '')}"
                for node in violation["nodes"][:6]
            ).replace("\n", " ")
            self.problems.append(
                f"axe {violation['impact']} {violation['id']} at {where} ({page.url}): "
                f"{violation['help']} — {nodes}"
            )

    def check_open_pages(self, context, where: str) -> None:
        for page in context.pages:
            self.axe(page, where)

    def finish(self) -> None:
        """Check the pages still open; fail with everything found during the journey."""
        for context in self.contexts:
            try:
                pages = context.pages
            except Exception:  # closed already
                continue
            for page in pages:
                self.axe(page, "the end of the journey")
        if self.problems:
            unique = list(dict.fromkeys(self.problems))
            pytest.fail(
                f"{len(unique)} CSP or accessibility problem(s):\n" + "\n".join(unique),
                pytrace=False,
            )


class WatchedBrowser:
    """The session's browser, but every new context (and page) is watched by the journey."""

    def __init__(self, browser, watch: JourneyWatch) -> None:
        self._browser = browser
        self._watch = watch

    def new_context(self, **kwargs):
        # Reduced motion: the focus panel slides in, and a screenshot or an axe contrast check
        # taken mid-slide sees it half transparent over the page beneath.
        kwargs.setdefault("reduced_motion", "reduce")
        context = self._browser.new_context(**kwargs)
        self._watch.watch(context, scripts=kwargs.get("java_script_enabled", True))
        return context

    def new_page(self, **kwargs):
        return self.new_context(**kwargs).new_page()

    def __getattr__(self, name):
        return getattr(self._browser, name)


WATCH = pytest.StashKey[JourneyWatch]()


@pytest.fixture(scope="session")
def chromium():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Browser tests need Debian's chromium at {CHROMIUM} (apt-get install chromium)"
        )
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def journey_watch(request) -> JourneyWatch:
    watch = JourneyWatch()
    request.node.stash[WATCH] = watch
    return watch


@pytest.fixture
def browser(chromium, journey_watch):
    """The browser the journeys use: each context it opens is checked for CSP and axe."""
    return WatchedBrowser(chromium, journey_watch)


@pytest.fixture
def axe(journey_watch):
    """Return a function running axe-core on a page at a state the journey names."""

    def run(page, where: str) -> None:
        journey_watch.axe(page, where)

    return run


@pytest.fixture
def screenshot(journey_watch):
    """Return a function saving a full-page screenshot as var/screenshots/<name>_<width>.png.

    Each screenshot is also an axe-core check of the page as shown.
    """
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}_{page.viewport_size['width']}.png"
        # From the top: a page scrolled down shoots its sticky top bar halfway down.
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(path), full_page=True, animations="disabled")
        journey_watch.axe(page, f"screenshot {path.name}")
        return path

    return take


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    # After the journey's own body passed: its CSP and axe findings fail it as a test failure.
    result = yield
    watch = item.stash.get(WATCH, None)
    if watch is not None:
        watch.finish()
    return result
