"""Drafts for multi-stage creators: a server-side draft filled in one stage at a time.

A creator (the step wizard, the flow creator …) describes itself with a `Creator`: where its
drafts live in the session, the label of each stage, and which stages a draft has (they may
depend on what was chosen, e.g. a step's type). Its last stage is the review. This module
keeps the drafts (expiry, at most `max_drafts` per session, bound to a practice), tracks the
stages finished, decides which stage may be shown (finished ones, the current one and the
first unfinished one), moves Back / Next, and words the progress bar. It knows nothing of what
is being created: the creator supplies its stage forms and what Go creates.

The core templates `sodium/drafts/_progress.html` and `sodium/drafts/_actions.html` show the
progress bar and the Back / Cancel / Review / Next buttons; a creator includes them with
`progress`, `stage_url_name` and `cancel_url` in the context.
"""

from __future__ import annotations

import copy
import secrets
import time
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

REVIEW = "review"


class DraftNotFound(Exception):
    """No such draft in this session for this practice: unknown, expired, used or cancelled."""


@dataclass(frozen=True)
class Creator:
    """What a multi-stage creator tells the draft store about itself."""

    session_key: str
    labels: dict[str, str]
    stages: Callable[[dict], list[str]]
    ttl_seconds: int = 24 * 60 * 60
    max_drafts: int = 10  # per session; starting another drops the oldest
    clock: Callable[[], float] = field(default=time.time, compare=False)

    # --- drafts in the session ----------------------------------------------------------------

    def _drafts(self, session: MutableMapping, now: float) -> dict[str, dict]:
        drafts = dict(session.get(self.session_key) or {})
        return {k: d for k, d in drafts.items() if now - d.get("created", 0) < self.ttl_seconds}

    def start(
        self,
        session: MutableMapping,
        *,
        practice_id: int,
        values: dict[str, dict[str, Any]],
        stage: str,
        done: list[str] | None = None,
        **extra: Any,
    ) -> dict:
        """Start a draft at `stage` with the stage values given; return it.

        Expired drafts are dropped, and the oldest ones when the session holds too many.
        `extra` keys (e.g. the group a step goes into) are kept on the draft as they are.
        """
        now = self.clock()
        drafts = self._drafts(session, now)
        while len(drafts) >= self.max_drafts:
            drafts.pop(min(drafts, key=lambda k: drafts[k]["created"]))
        draft_id = secrets.token_urlsafe(8)
        draft = {
            **extra,
            "id": draft_id,
            "practice_id": practice_id,
            "created": now,
            "stage": stage,
            "done": list(done or []),
            "values": copy.deepcopy(values),
            "errors": {},
        }
        drafts[draft_id] = draft
        session[self.session_key] = drafts
        return copy.deepcopy(draft)

    def get(self, session: MutableMapping, draft_id: str, *, practice_id: int) -> dict:
        """Return the session's draft `draft_id` of the practice, or raise DraftNotFound."""
        draft = self._drafts(session, self.clock()).get(draft_id)
        if draft is None or draft.get("practice_id") != practice_id:
            raise DraftNotFound(draft_id)
        # A copy: changes reach the session only through save (never on a GET).
        return copy.deepcopy(draft)

    def save(self, session: MutableMapping, draft: dict) -> None:
        """Store the draft back in the session."""
        drafts = self._drafts(session, self.clock())
        drafts[draft["id"]] = draft
        session[self.session_key] = drafts  # reassigning marks the session as changed

    def drop(self, session: MutableMapping, draft_id: str) -> None:
        """Forget the draft (used, cancelled or dead)."""
        drafts = self._drafts(session, self.clock())
        drafts.pop(draft_id, None)
        session[self.session_key] = drafts

    # --- stages -------------------------------------------------------------------------------

    def frontier(self, draft: dict) -> str:
        """Return the first stage not finished yet (the review once all others are)."""
        return next(s for s in self.stages(draft) if s not in draft["done"] or s == REVIEW)

    def can_visit(self, draft: dict, stage: str) -> bool:
        """Return whether a stage may be shown: finished, current or first unfinished."""
        return stage in self.stages(draft) and (
            stage in draft["done"] or stage == draft["stage"] or stage == self.frontier(draft)
        )

    def next_stage(self, draft: dict, stage: str) -> str:
        order = self.stages(draft)
        return order[min(order.index(stage) + 1, len(order) - 1)]

    def previous_stage(self, draft: dict, stage: str) -> str:
        order = self.stages(draft)
        return order[max(order.index(stage) - 1, 0)]

    def ready_for_review(self, draft: dict) -> bool:
        return self.frontier(draft) == REVIEW

    def mark(self, draft: dict, stage: str, finished: bool) -> None:
        """Record whether `stage` is finished, keeping `done` in stage order."""
        done = [s for s in draft["done"] if s != stage]
        if finished:
            done.append(stage)
        draft["done"] = [s for s in self.stages(draft) if s in done]

    def target(self, draft: dict, stage: str, action: str, *, valid: bool) -> str:
        """Return the stage to show after a POST of `stage` with `action` (next/back/review).

        Back always moves back (what was typed is kept, unchecked); Next and Review move on
        only when the stage was valid, and Review only once every stage before it is done.
        """
        if stage == REVIEW or action == "back":
            return self.previous_stage(draft, stage)
        if not valid:
            return stage
        if action == "review" and self.ready_for_review(draft):
            return REVIEW
        return self.next_stage(draft, stage)

    def progress(self, draft: dict) -> Progress:
        """Return the progress bar: each stage's state, and finished/total."""
        order = self.stages(draft)
        items = []
        for number, key in enumerate(order, start=1):
            if key == draft["stage"]:
                state = "current"
            elif key in draft["done"]:
                state = "done"
            else:
                state = "todo"
            link = state != "current" and self.can_visit(draft, key)
            items.append(StageInfo(key, self.labels[key], number, state, link))
        finished = sum(1 for s in order if s in draft["done"])
        current = next(i for i in items if i.state == "current")
        return Progress(stages=items, finished=finished, total=len(items), current=current)


@dataclass
class StageInfo:
    key: str
    label: str
    number: int
    state: str  # done, current or todo
    link: bool  # shown as a link in the progress bar


@dataclass
class Progress:
    stages: list[StageInfo]
    finished: int
    total: int
    current: StageInfo

    @property
    def percent(self) -> int:
        return round(100 * self.finished / self.total)
