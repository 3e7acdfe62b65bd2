"""Moving through the flow creator's stages: which form a stage has, binding it to what the
draft keeps (raw, as typed), checking a stage, and storing what was typed on Next or Back."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.datastructures import MultiValueDict

from checks.flows import creator
from checks.flows.creator_forms import (
    FORMS,
    OneOffForm,
    RepeatingForm,
    StageForm,
)


def form_class(draft: dict, stage: str) -> type[StageForm]:
    if stage == "cadence":
        return RepeatingForm if creator.is_repeating(draft) else OneOffForm
    return FORMS[stage]


def _as_data(values: dict[str, Any]) -> MultiValueDict:
    return MultiValueDict({k: v if isinstance(v, list) else [v] for k, v in values.items()})


def stage_defaults(draft: dict, stage: str, ctx: creator.CreatorContext) -> dict[str, Any]:
    if stage == "cadence":
        if creator.is_repeating(draft):
            return dict(creator.REPEATING_DEFAULTS)
        return creator.one_off_defaults(ctx.today)
    return {}


def bound_form(draft: dict, stage: str, ctx: creator.CreatorContext, data: Any = None) -> StageForm:
    """Return the stage's form bound to `data`, or to what the draft holds for it."""
    cls = form_class(draft, stage)
    if data is None:
        data = _as_data(stored_values(draft, stage, ctx))
    return cls(data, draft=draft, ctx=ctx)


def stored_values(draft: dict, stage: str, ctx: creator.CreatorContext) -> dict[str, Any]:
    """Return what the draft holds for the stage, with the defaults of fields it lacks (a
    check or a client added since the stage was saved)."""
    unbound = form_class(draft, stage)(
        initial=stage_defaults(draft, stage, ctx), draft=draft, ctx=ctx
    )
    return {**_initial_data(unbound), **(draft["values"].get(stage) or {})}


def display_form(draft: dict, stage: str, ctx: creator.CreatorContext) -> StageForm:
    """Return the stage's form to show: bound to the draft's values (unchecked), or unbound
    with its defaults."""
    cls = form_class(draft, stage)
    values = draft["values"].get(stage)
    if values is not None:
        form = cls(_as_data(stored_values(draft, stage, ctx)), draft=draft, ctx=ctx)
        form._errors = forms.utils.ErrorDict()  # shown as typed, not checked (a GET)
        return form
    return cls(initial=stage_defaults(draft, stage, ctx), draft=draft, ctx=ctx)


def raw_values(data: Any, form: StageForm) -> dict[str, Any]:
    """Return what was typed for the form's fields, as the draft keeps it."""
    out: dict[str, Any] = {}
    for name, field in form.fields.items():
        if name.startswith("all_"):
            continue
        if isinstance(field, forms.MultipleChoiceField):
            out[name] = list(data.getlist(name)) if hasattr(data, "getlist") else data.get(name, [])
        elif isinstance(field, forms.BooleanField):
            out[name] = "on" if data.get(name) else ""
        else:
            value = data.get(name)
            if value is None and not form.is_bound:
                value = form[name].value()
            out[name] = "" if value is None else str(value)
    return out


# --- moving through the stages -----------------------------------------------------------------


def check_stage(draft: dict, stage: str, ctx: creator.CreatorContext, data: Any = None):
    """Return the stage's form bound to `data` (or the draft's values), checked."""
    form = bound_form(draft, stage, ctx, data)
    form.is_valid()
    return form


def _initial_data(form: StageForm) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if isinstance(field, forms.MultipleChoiceField):
            data[name] = [str(v) for v in (value or [])]
        else:
            data[name] = "" if value is None else str(value)
    return data


def _store(draft: dict, stage: str, form: StageForm, data: Any) -> None:
    draft["values"][stage] = raw_values(data, form)
    draft["errors"].pop(stage, None)
    if stage == "rules" and form.is_valid():
        draft["rules_store"] = form.changed_rules


def submit_stage(draft: dict, stage: str, data: Any, ctx: creator.CreatorContext) -> StageForm:
    """Save a stage's values and check them; mark the stage finished when valid.

    Only this stage's form is bound and cleaned (once): a later stage a change affects (the
    team of a client added since) is checked again when it is shown and saved, and Go checks
    every stage again.
    """
    draft["errors"].pop("review", None)
    form = check_stage(draft, stage, ctx, data)
    _store(draft, stage, form, data)
    creator.CREATOR.mark(draft, stage, form.is_valid())
    return form


def keep_stage(draft: dict, stage: str, data: Any, ctx: creator.CreatorContext) -> None:
    """Save a stage's values without showing problems (Back, moving a check, set all)."""
    submit_stage(draft, stage, data, ctx)
