"""The colours of static/css/sodium.css meet WCAG 2.2 AA where the stylesheet uses them."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings
from django.test import SimpleTestCase

CSS = Path(settings.BASE_DIR) / "static" / "css" / "sodium.css"

# (text or ring colour, background) pairs as the stylesheet combines them. Backgrounds are
# custom properties or the literal light greys used under muted text (table headers, forms).
TEXT_PAIRS = [
    ("--ink-3", "--bg"),  # muted text on the page: page intros, breadcrumbs
    ("--ink-3", "--surface"),
    ("--ink-3", "#fafbfc"),  # table headers, form panels, the "optional" marks
    ("--ink-3", "--muted-bg"),  # neutral chips
    ("--ink-3", "--line-2"),
    ("--ink-2", "--muted-bg"),
    ("--ink", "--bg"),
    ("--ok", "--ok-bg"),  # done chips, green tags, success messages
    ("--ok", "--surface"),
    ("--warn", "--warn-bg"),
    ("--danger", "--danger-bg"),
    ("--info", "--info-bg"),
    ("--purple", "--purple-bg"),
    ("--brand-contrast", "--brand"),
]
# Non-text contrast (1.4.11): the focus ring against what it is drawn on.
RING_PAIRS = [("--focus-ring", "--surface"), ("--focus-ring", "--bg"), ("--focus-ring", "#fafbfc")]


def root_properties() -> dict[str, str]:
    root = re.search(r":root\s*\{(.*?)\}", CSS.read_text(), re.S).group(1)
    root = re.sub(r"/\*.*?\*/", "", root, flags=re.S)
    return {name: value.strip() for name, value in re.findall(r"(--[\w-]+)\s*:\s*([^;]+);", root)}


def luminance(hex_colour: str) -> float:
    h = hex_colour.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    channels = [int(h[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


class ContrastTests(SimpleTestCase):
    def setUp(self) -> None:
        self.props = root_properties()

    def colour(self, name: str) -> str:
        value = self.props[name] if name.startswith("--") else name
        self.assertRegex(value, r"^#[0-9a-fA-F]{3,6}$", name)
        return value

    def test_the_contrast_helper_matches_known_ratios(self) -> None:
        self.assertAlmostEqual(contrast("#000", "#fff"), 21.0, places=2)
        self.assertAlmostEqual(contrast("#6b7585", "#f5f7fa"), 4.34, places=2)

    def test_text_colours_reach_4_5_to_1_on_their_backgrounds(self) -> None:
        for fg, bg in TEXT_PAIRS:
            with self.subTest(fg=fg, bg=bg):
                ratio = contrast(self.colour(fg), self.colour(bg))
                self.assertGreaterEqual(ratio, 4.5, f"{fg} on {bg}: {ratio:.2f}:1")

    def test_the_focus_ring_reaches_3_to_1(self) -> None:
        for ring, bg in RING_PAIRS:
            with self.subTest(ring=ring, bg=bg):
                ratio = contrast(self.colour(ring), self.colour(bg))
                self.assertGreaterEqual(ratio, 3.0, f"{ring} on {bg}: {ratio:.2f}:1")

    def test_focus_is_shown_as_a_solid_outline_that_nothing_removes(self) -> None:
        css = re.sub(r"/\*.*?\*/", "", CSS.read_text(), flags=re.S)
        site_wide = r"(?m)^:focus-visible\s*\{[^}]*outline:\s*3px solid var\(--focus-ring\)"
        ring = re.search(site_wide, css)
        self.assertIsNotNone(ring, "the site-wide :focus-visible rule draws no solid ring")
        # No rule takes the ring away from a focusable thing (the skip target <main> aside).
        removals = re.findall(r"([^{}]+):focus(?:-visible)?\s*\{[^}]*outline:\s*(?:none|0)", css)
        self.assertEqual([r.strip() for r in removals], [".content", ".portal-main"])
