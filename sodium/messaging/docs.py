"""`docs/liquid-variables.md`, generated per message use from the registry."""

from __future__ import annotations

from sodium import liquid
from sodium.messaging import variables


def variables_markdown() -> str:
    """Return the page: every registered use, its groups, and the render limits."""
    limits = "\n".join(
        [
            "`{% include %}` and `{% render %}` are not supported. "
            "Every render is bounded: at most",
            f"{liquid.LOOP_LIMIT:,} loop passes (and numbers in a range), "
            f"{liquid.OUTPUT_LIMIT // 1000} KB of output,",
            f"{liquid.LOCALS_LIMIT // 1000} KB held in `assign` and `capture`, "
            f"{liquid.RENDER_SECONDS} seconds. A template that goes",
            "over is refused when saved if it does so with no values; otherwise the preview and "
            "the",
            "composer say so, and an automatic step fails with the reason.",
        ]
    )
    return variables.markdown(limits=limits)
