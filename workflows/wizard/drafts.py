"""The step wizard's creator on the core draft store, and what the stage forms need to know."""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from functools import cached_property

from sodium import drafts as core_drafts
from sodium import queries as core_queries
from sodium.drafts import DraftNotFound, Progress, StageInfo  # noqa: F401 (wizard's names)
from sodium.models import Client, Practice
from workflows import step_types
from workflows.models import ContentBlock, Mode, TemplateGroup, TemplateStep

SESSION_KEY = "wizard"
DRAFT_TTL_SECONDS = 24 * 60 * 60
MAX_DRAFTS = 10  # per session; starting another drops the oldest

STAGE_LABELS: dict[str, str] = {
    "type": "Type",
    "name": "Name",
    "content": "Content",
    "recipients": "Recipients",
    "behaviour": "Behaviour",
    "assignment": "Assignment",
    "review": "Review",
}

# Which stage owns a field, by the keys config_errors and building.TemplateError use; a step
# type adds its own settings' keys (StepTypeSpec.field_stages).
_FIELD_STAGE: dict[str, str] = {
    "type": "type",
    "name": "name",
    "description": "name",
    "content_block": "content",
    "subject": "content",
    "body": "content",
    "to_recipients": "recipients",
    "cc_recipients": "recipients",
    "assignment_rule": "assignment",
    "specific_assignee": "assignment",
    # Timing is part of the assignment stage: who does the step, and by when.
    "due_rule": "assignment",
    "due_days": "assignment",
    "send_rule": "assignment",
    "send_days": "assignment",
}


def step_type(draft: dict) -> str:
    return draft["values"]["type"]["type"]


def spec(draft: dict) -> step_types.StepTypeSpec:
    """Return the declaration of the draft's step type."""
    return step_types.get(step_type(draft))


def saved_mode(draft: dict) -> str:
    """Return how the step runs as the behaviour stage saved it (manual unless a type that may
    run automatically was set to), read from the saved values without checking that stage."""
    mode = draft["values"].get("behaviour", {}).get("mode")
    if mode == Mode.AUTOMATIC and spec(draft).may_run_automatically:
        return Mode.AUTOMATIC
    return Mode.MANUAL


def stages(draft: dict) -> list[str]:
    return list(spec(draft).wizard_stages)


CREATOR = core_drafts.Creator(
    session_key=SESSION_KEY,
    labels=STAGE_LABELS,
    stages=stages,
    ttl_seconds=DRAFT_TTL_SECONDS,
    max_drafts=MAX_DRAFTS,
)


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
        # The practice's own blocks; built-in emails are offered as "the built-in email".
        return ContentBlock.objects.filter(practice=self.practice, system_key="").order_by("name")

    def clients(self):
        return Client.objects.filter(practice=self.practice).order_by("name").only("pk", "name")

    def members(self):
        return core_queries.members_of(self.practice)


# --- drafts in the session --------------------------------------------------------------------


def start_draft(
    session: MutableMapping, *, practice_id: int, group_id: int, step_type: str
) -> dict:
    """Start a draft for a new step of `step_type` in the group; return it.

    Expired drafts are dropped, and the oldest ones when the session holds too many.
    """
    if not step_types.is_registered(step_type):
        raise ValueError(f"Unknown step type {step_type!r}")
    return CREATOR.start(
        session,
        practice_id=practice_id,
        group_id=group_id,
        stage="name",
        done=["type"],
        values={"type": {"type": step_type}},
    )


def get_draft(session: MutableMapping, draft_id: str, *, practice_id: int) -> dict:
    """Return the session's draft `draft_id` of the practice, or raise DraftNotFound."""
    return CREATOR.get(session, draft_id, practice_id=practice_id)


def save_draft(session: MutableMapping, draft: dict) -> None:
    CREATOR.save(session, draft)


def drop_draft(session: MutableMapping, draft_id: str) -> None:
    CREATOR.drop(session, draft_id)


# --- stages -----------------------------------------------------------------------------------


def stage_of(key: str, kind: str | None = None) -> str:
    """Return the stage whose screen shows the field `key` (an error key)."""
    if key in _FIELD_STAGE:
        return _FIELD_STAGE[key]
    if kind is not None and step_types.is_registered(kind):
        own = step_types.get(kind).field_stages.get(key)
        if own:
            return own
    if key in ("mode", "checklist", "depends_on") or key.startswith("settings."):
        return "behaviour"
    return "review"


def form_field(key: str) -> str:
    """Return the stage form's field for an error key: settings.chase.body → chase_body."""
    return key.removeprefix("settings.").replace(".", "_")


def frontier(draft: dict) -> str:
    """Return the first stage not finished yet (the review once all others are)."""
    return CREATOR.frontier(draft)


def can_visit(draft: dict, stage: str) -> bool:
    """Finished stages, the current one and the first unfinished one may be shown."""
    return CREATOR.can_visit(draft, stage)


def next_stage(draft: dict, stage: str) -> str:
    return CREATOR.next_stage(draft, stage)


def previous_stage(draft: dict, stage: str) -> str:
    return CREATOR.previous_stage(draft, stage)


def ready_for_review(draft: dict) -> bool:
    return CREATOR.ready_for_review(draft)


def progress(draft: dict) -> Progress:
    """Return the progress bar: each stage's state, and finished/total."""
    return CREATOR.progress(draft)
