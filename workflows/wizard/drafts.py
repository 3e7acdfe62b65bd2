"""Drafts in the session, the stages each step type has, and the progress through them."""

from __future__ import annotations

import copy
import secrets
import time
from collections.abc import MutableMapping
from dataclasses import dataclass
from functools import cached_property

from sodium import queries as core_queries
from sodium.models import Client, Practice
from workflows.models import ContentBlock, StepType, TemplateGroup, TemplateStep

SESSION_KEY = "wizard"
DRAFT_TTL_SECONDS = 24 * 60 * 60
MAX_DRAFTS = 10  # per session; starting another drops the oldest

# One line per type, from the product description; shown on the type cards.
TYPE_DESCRIPTIONS: dict[str, str] = {
    StepType.SIMPLE: "A checklist item: someone does the work, then marks it complete.",
    StepType.EMAIL: "Sends an email to the client or your team as part of the workflow.",
    StepType.DOCUMENT_REQUEST: "Asks the client for documents through the portal, then waits "
    "for their upload.",
    StepType.DOCUMENT_APPROVAL: "Sends a document to the client to approve or reject in the "
    "portal.",
    StepType.CLIENT_CONFIRMATION: "Emails the client something to confirm, then waits for them "
    "to click the confirmation link.",
}

STAGE_LABELS: dict[str, str] = {
    "type": "Type",
    "name": "Name",
    "content": "Content",
    "recipients": "Recipients",
    "behaviour": "Behaviour",
    "assignment": "Assignment",
    "review": "Review",
}

_EMAILING = ["type", "name", "content", "recipients", "behaviour", "assignment", "review"]
STAGES: dict[str, list[str]] = {
    StepType.SIMPLE: ["type", "name", "behaviour", "assignment", "review"],
    StepType.EMAIL: _EMAILING,
    StepType.DOCUMENT_REQUEST: _EMAILING,
    StepType.DOCUMENT_APPROVAL: _EMAILING,
    StepType.CLIENT_CONFIRMATION: _EMAILING,
}

# Which stage owns a field, by the keys config_errors and building.TemplateError use.
_FIELD_STAGE: dict[str, str] = {
    "type": "type",
    "name": "name",
    "description": "name",
    "settings.title": "name",
    "settings.request_description": "name",
    "content_block": "content",
    "subject": "content",
    "body": "content",
    "to_recipients": "recipients",
    "cc_recipients": "recipients",
    "assignment_rule": "assignment",
    "specific_assignee": "assignment",
}

# Client-facing types send the practice's built-in email when the step has none of its own;
# the wizard offers that as their default content.
BUILT_IN_TYPES = {
    StepType.DOCUMENT_REQUEST,
    StepType.DOCUMENT_APPROVAL,
    StepType.CLIENT_CONFIRMATION,
}


class DraftNotFound(Exception):
    """No such draft in this session for this practice: unknown, expired, used or cancelled."""


@dataclass
class WizardContext:
    """What the stage forms need to know: the practice and the group the step goes into."""

    practice: Practice
    group: TemplateGroup

    @cached_property
    def group_steps(self) -> list[TemplateStep]:
        return list(
            TemplateStep.objects.filter(practice=self.practice, group=self.group).order_by(
                "position", "id"
            )
        )

    def content_blocks(self):
        # The practice's own blocks; built-in portal emails are offered as "the built-in email".
        return ContentBlock.objects.filter(practice=self.practice, system_key="").order_by("name")

    def clients(self):
        return Client.objects.filter(practice=self.practice).order_by("name").only("pk", "name")

    def members(self):
        return core_queries.members_of(self.practice)


# --- drafts in the session --------------------------------------------------------------------


def _drafts(session: MutableMapping, now: float) -> dict[str, dict]:
    drafts = dict(session.get(SESSION_KEY) or {})
    return {k: d for k, d in drafts.items() if now - d.get("created", 0) < DRAFT_TTL_SECONDS}


def start_draft(
    session: MutableMapping, *, practice_id: int, group_id: int, step_type: str
) -> dict:
    """Start a draft for a new step of `step_type` in the group; return it.

    Expired drafts are dropped, and the oldest ones when the session holds too many.
    """
    if step_type not in STAGES:
        raise ValueError(f"Unknown step type {step_type!r}")
    now = time.time()
    drafts = _drafts(session, now)
    while len(drafts) >= MAX_DRAFTS:
        drafts.pop(min(drafts, key=lambda k: drafts[k]["created"]))
    draft_id = secrets.token_urlsafe(8)
    draft = {
        "id": draft_id,
        "practice_id": practice_id,
        "group_id": group_id,
        "created": now,
        "stage": "name",
        "done": ["type"],
        "values": {"type": {"type": step_type}},
        "errors": {},
    }
    drafts[draft_id] = draft
    session[SESSION_KEY] = drafts
    return draft


def get_draft(session: MutableMapping, draft_id: str, *, practice_id: int) -> dict:
    """Return the session's draft `draft_id` of the practice, or raise DraftNotFound."""
    draft = _drafts(session, time.time()).get(draft_id)
    if draft is None or draft.get("practice_id") != practice_id:
        raise DraftNotFound(draft_id)
    # A copy: changes reach the session only through save_draft (never on a GET).
    return copy.deepcopy(draft)


def save_draft(session: MutableMapping, draft: dict) -> None:
    drafts = _drafts(session, time.time())
    drafts[draft["id"]] = draft
    session[SESSION_KEY] = drafts  # reassigning marks the session as changed


def drop_draft(session: MutableMapping, draft_id: str) -> None:
    drafts = _drafts(session, time.time())
    drafts.pop(draft_id, None)
    session[SESSION_KEY] = drafts


# --- stages -----------------------------------------------------------------------------------


def step_type(draft: dict) -> str:
    return draft["values"]["type"]["type"]


def stages(draft: dict) -> list[str]:
    return STAGES[step_type(draft)]


def stage_of(key: str) -> str:
    """Return the stage whose screen shows the field `key` (an error key)."""
    if key in _FIELD_STAGE:
        return _FIELD_STAGE[key]
    if key in ("mode", "checklist", "depends_on") or key.startswith("settings."):
        return "behaviour"
    return "review"


def form_field(key: str) -> str:
    """Return the stage form's field for an error key: settings.chase.body → chase_body."""
    return key.removeprefix("settings.").replace(".", "_")


def frontier(draft: dict) -> str:
    """Return the first stage not finished yet (the review once all others are)."""
    return next(s for s in stages(draft) if s not in draft["done"] or s == "review")


def can_visit(draft: dict, stage: str) -> bool:
    """Finished stages, the current one and the first unfinished one may be shown."""
    return stage in stages(draft) and (
        stage in draft["done"] or stage == draft["stage"] or stage == frontier(draft)
    )


def next_stage(draft: dict, stage: str) -> str:
    order = stages(draft)
    return order[min(order.index(stage) + 1, len(order) - 1)]


def previous_stage(draft: dict, stage: str) -> str:
    order = stages(draft)
    return order[max(order.index(stage) - 1, 0)]


def ready_for_review(draft: dict) -> bool:
    return frontier(draft) == "review"


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


def progress(draft: dict) -> Progress:
    """Return the progress bar: each stage's state, and finished/total."""
    items = []
    for number, key in enumerate(stages(draft), start=1):
        if key == draft["stage"]:
            state = "current"
        elif key in draft["done"]:
            state = "done"
        else:
            state = "todo"
        link = state != "current" and can_visit(draft, key)
        items.append(StageInfo(key, STAGE_LABELS[key], number, state, link))
    finished = sum(1 for s in stages(draft) if s in draft["done"])
    current = next(i for i in items if i.state == "current")
    return Progress(stages=items, finished=finished, total=len(items), current=current)
