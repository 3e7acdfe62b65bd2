"""From a draft to a step: parse every stage, check one stage or all, move, create."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django import forms

from sodium import liquid
from sodium.models import User
from workflows import building, step_types
from workflows.forms import timing_values
from workflows.models import AssignmentRule, Mode, SendRule, TemplateStep
from workflows.step_types import config_errors
from workflows.timing import timing_errors
from workflows.wizard.drafts import (
    CREATOR,
    WizardContext,
    form_field,
    saved_mode,
    stage_of,
    stages,
    step_type,
)
from workflows.wizard.forms import StageForm, bound_form, raw_values


class WizardError(Exception):
    """The draft cannot become a step yet; `stage` is where the first problem is."""

    def __init__(self, message: str, stage: str, errors: dict[str, list[str]]) -> None:
        super().__init__(message)
        self.stage = stage
        self.errors = errors


@dataclass
class Parsed:
    """The step the draft describes, as building.add_step takes it."""

    fields: dict[str, Any]
    checklist: list[str] = field(default_factory=list)
    depends_on: list[TemplateStep] = field(default_factory=list)
    source: str = ""  # where the email comes from: block, inline, default


def parse(
    draft: dict,
    ctx: WizardContext,
    *,
    forms_by_stage: dict[str, StageForm] | None = None,
    only: str | None = None,
) -> Parsed:
    """Return the step's fields from every stage's valid values (invalid ones are left empty).

    With `only`, just that stage's form is read (the others count as empty): checking one
    stage binds and cleans its own form once, and no other.
    """
    kind = step_type(draft)
    data: dict[str, dict[str, Any]] = {}
    for stage in stages(draft)[:-1]:
        if only is not None and stage != only:
            continue
        form = (forms_by_stage or {}).get(stage) or bound_form(draft, stage, ctx)
        form.is_valid()
        data[stage] = getattr(form, "cleaned_data", {})
    name, content, who = data.get("name", {}), data.get("content", {}), data.get("recipients", {})
    behaviour, assignment = data.get("behaviour", {}), data.get("assignment", {})

    source = content.get("source") or ""
    block = content.get("content_block") if source == "block" else None
    inline = source == "inline"
    rule = assignment.get("assignment_rule") or AssignmentRule.TASK_OWNER
    # Checking another stage alone still needs to know how the step runs (a send rule is only
    # for automatic steps): then it is read from the behaviour stage's saved values.
    mode = behaviour.get("mode") if "behaviour" in data else saved_mode(draft)
    fields: dict[str, Any] = {
        "name": (name.get("name") or "").strip(),
        "description": (name.get("description") or "").strip(),
        "type": kind,
        "mode": mode or Mode.MANUAL,
        "settings": step_types.get(kind).wizard_settings(name, behaviour),
        "content_block": block,
        "subject": (content.get("subject") or "").strip() if inline else "",
        "body": (content.get("body") or "").strip() if inline else "",
        "to_recipients": list(who.get("to_recipients") or [])
        + [f"email:{a}" for a in who.get("to_emails") or []],
        "cc_recipients": list(who.get("cc_recipients") or [])
        + [f"email:{a}" for a in who.get("cc_emails") or []],
        "assignment_rule": rule,
        "specific_assignee": assignment.get("specific_assignee")
        if rule == AssignmentRule.SPECIFIC
        else None,
        **timing_values(assignment),
    }
    wanted = {int(pk) for pk in behaviour.get("depends_on") or []}
    return Parsed(
        fields=fields,
        checklist=behaviour.get("checklist") or [],
        depends_on=[s for s in ctx.group_steps if s.pk in wanted],
        source=source if step_types.get(kind).sends_email else "",
    )


def problems(parsed: Parsed, ctx: WizardContext) -> dict[str, list[str]]:
    """Return field → problems of the whole step: config_errors plus the wizard's own checks."""
    step = TemplateStep(practice=ctx.practice, group=ctx.group, **parsed.fields)
    errors = config_errors(step)
    fields = parsed.fields
    if parsed.source == "block" and fields["content_block"] is None:
        errors["content_block"] = ["Choose a content block."]
    elif parsed.source == "inline":
        # Say which part is missing rather than config_errors' "block or subject and body".
        known = step_types.email_paths(fields["type"])
        for key, label in (("subject", "subject"), ("body", "body")):
            found = liquid.validate(fields[key], known)
            if not fields[key]:
                found.insert(0, f"Write the {label}.")
            if found:
                errors[key] = found
            else:
                errors.pop(key, None)
    if fields["assignment_rule"] == AssignmentRule.SPECIFIC and fields["specific_assignee"] is None:
        errors.setdefault("specific_assignee", []).append("Choose the member for this step.")
    return errors


def _add_errors(form: forms.Form, errors: dict[str, list[str]]) -> None:
    for key, messages in errors.items():
        name = form_field(key)
        target = name if name in form.fields else None
        shown = form.errors.get(target or "__all__", [])
        for message in messages:
            if message not in shown:
                form.add_error(target, message)


def check_stage(draft: dict, stage: str, ctx: WizardContext, data: Any = None) -> StageForm:
    """Return the stage's form bound to `data` (or its saved values) with all its problems."""
    form = bound_form(draft, stage, ctx, data)
    form.is_valid()
    found = problems(parse(draft, ctx, forms_by_stage={stage: form}, only=stage), ctx)
    kind = step_type(draft)
    _add_errors(form, {k: v for k, v in found.items() if stage_of(k, kind) == stage})
    return form


# --- moving through the stages ----------------------------------------------------------------


def _mark(draft: dict, stage: str, finished: bool) -> None:
    CREATOR.mark(draft, stage, finished)


def _store(draft: dict, stage: str, form: StageForm, data: Any) -> None:
    draft["values"][stage] = raw_values(data, form)
    draft["errors"].pop(stage, None)


def _change_type(draft: dict, new_type: str, ctx: WizardContext) -> None:
    draft["values"]["type"] = {"type": new_type}
    if not step_types.get(new_type).may_run_automatically:
        # The mode choice is not shown for this type: forget one made for the old type.
        draft["values"].get("behaviour", {}).pop("mode", None)
    draft["done"] = [s for s in draft["done"] if s in stages(draft)]
    for stage in list(draft["done"]):
        if stage != "type" and not check_stage(draft, stage, ctx).is_valid():
            _mark(draft, stage, False)


def submit_stage(draft: dict, stage: str, data: Any, ctx: WizardContext) -> StageForm:
    """Save a stage's values and check them; when valid, mark the stage finished.

    Returns the checked form. The caller moves on only when it is valid.
    """
    # A problem found when creating the step, shown on the review, is settled by any change.
    draft["errors"].pop("review", None)
    if stage == "type":
        form = bound_form(draft, stage, ctx, data)
        if form.is_valid():
            if form.cleaned_data["type"] != step_type(draft):
                _change_type(draft, form.cleaned_data["type"], ctx)
            _mark(draft, "type", True)
        return form
    form = check_stage(draft, stage, ctx, data)
    _store(draft, stage, form, data)
    _mark(draft, stage, form.is_valid())
    if stage == "behaviour":
        _recheck_send_rule(draft)
    return form


def _recheck_send_rule(draft: dict) -> None:
    """Send the user back to the assignment stage when its saved send rule no longer fits.

    A step made manual after a send rule was chosen for it would be refused at creation;
    saying so now, on that stage, is kinder. Reads the saved values only (that stage's form
    is not built here: one form per request).
    """
    rule = draft["values"].get("assignment", {}).get("send_rule") or SendRule.NOW
    refused = []
    if rule in SendRule.values and rule != SendRule.NOW:
        step = TemplateStep(type=step_type(draft), mode=saved_mode(draft), send_rule=rule)
        refused = timing_errors(step).get("send_rule", [])
    if refused:
        draft["errors"]["assignment"] = {"send_rule": refused}
        _mark(draft, "assignment", False)
    elif set(draft["errors"].get("assignment", {})) == {"send_rule"}:
        draft["errors"].pop("assignment")


def keep_stage(draft: dict, stage: str, data: Any, ctx: WizardContext) -> None:
    """Save a stage's values without showing problems (Back, preview)."""
    if stage != "type":
        submit_stage(draft, stage, data, ctx)


def go_to(draft: dict, stage: str) -> None:
    draft["stage"] = stage


def stage_form_with_errors(
    draft: dict, stage: str, ctx: WizardContext, errors: dict[str, list[str]]
) -> StageForm:
    """Return the stage's checked form with the problems creating the step found there."""
    form = check_stage(draft, stage, ctx)
    _add_errors(form, errors)
    return form


# --- creating the step ------------------------------------------------------------------------


def _first_stage(draft: dict, keys: list[str]) -> str:
    owners = {stage_of(k, step_type(draft)) for k in keys}
    return next((s for s in stages(draft) if s in owners), "review")


def create_step(draft: dict, ctx: WizardContext, *, actor: User) -> TemplateStep:
    """Check the whole draft again and add the step to the group.

    Raises WizardError naming the first stage with a problem (and remembers the problems in
    the draft, to show on that stage); nothing is created then.
    """
    checked = {}
    for stage in stages(draft)[:-1]:
        form = checked[stage] = check_stage(draft, stage, ctx)
        if not form.is_valid():
            _mark(draft, stage, False)
            raise WizardError("Some details need another look.", stage, {})
    parsed = parse(draft, ctx, forms_by_stage=checked)
    try:
        return building.add_step(
            ctx.group,
            actor=actor,
            checklist=parsed.checklist,
            depends_on=parsed.depends_on,
            **parsed.fields,
        )
    except building.TemplateError as exc:
        errors = exc.errors or {"review": [str(exc)]}
        stage = _first_stage(draft, list(errors))
        own = {k: v for k, v in errors.items() if stage_of(k, step_type(draft)) == stage}
        draft["errors"][stage] = own
        if stage != "review":
            _mark(draft, stage, False)
        raise WizardError(str(exc), stage, own) from None
