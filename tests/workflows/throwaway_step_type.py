"""A step type that exists only in the tests: it proves a type plugs in without editing
workflows. Declared and registered here, never by workflows itself."""

from __future__ import annotations

from django import forms

from workflows import handlers, step_types
from workflows.handlers import Outcome
from workflows.models import Step
from workflows.step_types import StepTypeSpec

VALUE = "stamp_ledger"
RECHECK_TIMER = "stamp.recheck"


def _errors(settings: dict) -> dict[str, list[str]]:
    if not str(settings.get("colour") or "").strip():
        return {"colour": ["Give the stamp colour."]}
    return {}


class StampHandler:
    """Runs by itself and is done at once."""

    runs: list[int] = []

    def run(self, step: Step) -> Outcome:
        StampHandler.runs.append(step.pk)
        return Outcome(status=Step.Status.DONE, note=f"Stamped in {step.settings['colour']}")

    def draft(self, step: Step) -> handlers.Draft:
        return handlers.Draft(problems=["Stamps send nothing."])

    def send(self, step: Step, draft: handlers.Draft, *, actor) -> Outcome:
        raise handlers.StepFailure("Stamps send nothing.")


SPEC = StepTypeSpec(
    value=VALUE,
    label="Stamp the ledger",
    description="Stamps the client's ledger in a colour of your choosing, by itself.",
    kind_phrase="a ledger stamp",
    icon="★",
    icon_template="stamp/_icon.html",  # in tests/workflows/templates (ICON_TEMPLATES)
    handler=StampHandler,  # a class: registering the type makes its instance
    may_run_automatically=True,
    sends_email=False,
    wizard_stages=("type", "name", "behaviour", "assignment", "review"),
    behaviour_fields={"colour": forms.CharField(max_length=20, label="Stamp colour")},
    wizard_settings=lambda name, behaviour: {"colour": (behaviour.get("colour") or "").strip()},
    settings_errors=_errors,
    review_behaviour_lines=lambda settings: [f"Stamps in {settings.get('colour', '')}."],
    sub_statuses=(Step.SubStatus.NONE, Step.SubStatus.SUBMITTED),
    timers=(RECHECK_TIMER,),  # cancelled by the engine when the step finishes
)


def register() -> None:
    """Register the type: its declaration brings its handler and icon."""
    step_types.register(SPEC)


def unregister() -> None:
    step_types.unregister(VALUE)
