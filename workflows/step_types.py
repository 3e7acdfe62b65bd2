"""Step types as plug-ins: each declares itself once in a `StepTypeSpec`, registered here.

Workflows registers *simple* and *send email* (below); another app registers its own types
when it loads (the portal's three client-facing ones in `portal/step_types.py`). Everything
that differs by type — label, description, whether it may run by itself, its settings and
their validation, its wizard stages, fields and review lines, its default content, its Liquid
variables, its focus-panel part, its sub-statuses and its timers — is read from the spec, so
nothing in workflows names another app's types. This module also validates a configuration
(`config_errors`) and the recipients a step sends to.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.module_loading import import_string

from sodium import liquid, timers
from sodium.messaging import builtins, variables
from workflows import handlers as step_handlers
from workflows.context import CONTACT_ROLES, STEP_EMAIL, STEP_GROUPS
from workflows.models import Mode, Step, StepType

if TYPE_CHECKING:
    from django import forms

_EMAILING = ("type", "name", "content", "recipients", "behaviour", "assignment", "review")
_MANUAL_ONLY = ("type", "name", "behaviour", "assignment", "review")


def _no_errors(settings: dict) -> dict[str, list[str]]:
    return {}


def _no_settings(*_data: dict) -> dict[str, Any]:
    return {}


def _no_lines(settings: dict) -> list[str]:
    return []


def _keep_settings(settings: dict, data: dict) -> dict[str, Any]:
    return dict(settings)


@dataclass(frozen=True)
class StepTypeSpec:
    """Everything about one step type, in one place.

    Stored values (`value`) never change: they are in the database. Form fields given here
    (`name_fields`, `behaviour_fields`, `edit_fields`) are added to the wizard's stage forms
    and the template editor's step form for this type only.
    """

    value: str
    label: str
    description: str  # one line on the wizard's type cards
    kind_phrase: str  # the review's "‘Collect records’, a document request."
    icon: str = "☑"  # the type card's glyph
    # The small SVG icon beside the step in the template editor: a template holding the
    # icon's shapes (drawn inside a 24×24 stroked <svg> by workflows/template_step_icon.html).
    icon_template: str = "workflows/step_types/_icon_default.html"
    # What running it does (a workflows.handlers.StepHandler): an instance, or the dotted
    # path of a handler class or instance, imported when the type is registered, so the
    # module declaring the type need not import its handlers (they import the declaration).
    handler: Any = None
    may_run_automatically: bool = False
    manual_reason: str = ""  # the problem shown when someone sets it to run automatically
    sends_email: bool = True
    client_facing: bool = False  # the client acts on it (through a link in its email)
    composable: bool = False  # when manual, a person reviews and sends its email
    compose_label: str = "Write the email"  # the focus panel's button for the composer
    default_content: str = ""  # system block key of its built-in email, if it has one
    settings_errors: Callable[[dict], dict[str, list[str]]] = _no_errors
    # The wizard
    wizard_stages: tuple[str, ...] = _EMAILING
    name_fields: Mapping[str, forms.Field] = dataclasses.field(default_factory=dict)
    behaviour_fields: Mapping[str, forms.Field] = dataclasses.field(default_factory=dict)
    field_stages: Mapping[str, str] = dataclasses.field(default_factory=dict)  # error key → stage
    wizard_settings: Callable[[dict, dict], dict[str, Any]] = _no_settings  # (name, behaviour)
    name_heading: str = "Name"
    name_intro: str = "What your team sees in the workflow and in their list of steps."
    behaviour_intro: str = "How and when the step runs."
    manual_email: str = "email"  # "Waits for the assignee, who sees the drafted email …"
    manual_note: str = ""  # shown instead of the mode choice when it is always manual
    behaviour_template: str = ""  # the type's own part of the behaviour stage
    manual_doing: str = "the assignee checks the drafted email and sends it"
    review_name_lines: Callable[[dict], list[str]] = _no_lines
    review_behaviour_lines: Callable[[dict], list[str]] = _no_lines
    preview_values: Callable[[dict], dict[str, Any]] = _no_settings  # extra Liquid values
    # The template editor's step form
    edit_fields: Mapping[str, forms.Field] = dataclasses.field(default_factory=dict)
    edit_initial: Callable[[dict], dict[str, Any]] = _no_settings  # settings → initial
    edit_settings: Callable[[dict, dict], dict[str, Any]] = _keep_settings  # (old, cleaned)
    edit_template: str = ""  # the type's own part of the step form
    edit_manual: str = "someone does the work and marks it done"  # "Manual — …" when manual
    # Running
    # Liquid variable paths its emails may write beyond a step email's own groups
    # (STEP_GROUPS): validation and the token picker of its steps read `email_paths`.
    variables: tuple[str, ...] = ()
    # The message use whose variables the behaviour stage's token fields write (a
    # confirmation's chase email); empty: those of the step's own email.
    behaviour_use: str = ""
    focus_template: str = ""  # registered with workflows.panels.register_focus_step_template
    sub_statuses: tuple[str, ...] = ()  # Step.SubStatus values it uses
    timers: tuple[str, ...] = ()  # timer kinds it schedules (and cancels when it finishes)
    waits_when_rejected: bool = False  # a rejected submission still waits on the client
    # The task page's button for the manual action the type needs now: (label, url) for a
    # step, or None (rendered by workflows/_task_workflow.html, which names no type).
    task_action: Callable[[Any], tuple[str, str] | None] | None = None


_REGISTRY: dict[str, StepTypeSpec] = {}


def _builtin_content(key: str) -> Callable[[Step], tuple[str, str]]:
    def content(step: Step) -> tuple[str, str]:
        return builtins.system_text(step.task.practice, key)

    return content


def _resolve_handler(handler: Any) -> Any:
    if isinstance(handler, str):
        handler = import_string(handler)
    return handler() if isinstance(handler, type) else handler


def register(spec: StepTypeSpec) -> StepTypeSpec:
    """Register a step type (once per value; registering the same value again replaces it).

    Also installs its handler in `workflows.handlers.HANDLERS` (the engine's hot path reads
    that dict, never this registry), its built-in email (`default_content`, the practice's
    copy of that built-in text) as its steps' fallback content, and its focus-panel part with
    the focus panel.
    """
    if spec.handler is None:
        raise ValueError(f"Step type {spec.value!r} declares no handler.")
    _REGISTRY[spec.value] = spec
    step_handlers.HANDLERS[spec.value] = _resolve_handler(spec.handler)
    if spec.default_content:
        step_handlers.DEFAULT_CONTENT[spec.value] = _builtin_content(spec.default_content)
    if spec.focus_template:
        from workflows.panels import register_focus_step_template

        register_focus_step_template(spec.value, spec.focus_template)
    return spec


def unregister(value: str) -> None:
    """Forget a step type and its handler (tests' throwaway types)."""
    _REGISTRY.pop(value, None)
    step_handlers.HANDLERS.pop(value, None)
    step_handlers.DEFAULT_CONTENT.pop(value, None)


def get(value: str) -> StepTypeSpec:
    """Return the declaration of a registered step type; raise KeyError for an unknown one."""
    return _REGISTRY[value]


def is_registered(value: str) -> bool:
    return value in _REGISTRY


def all_types() -> list[StepTypeSpec]:
    """Return every registered step type, in the order they were registered."""
    return list(_REGISTRY.values())


def task_action(step: Any) -> tuple[str, str] | None:
    """Return the (label, url) of the task page's button for `step`'s type, or None."""
    spec = _REGISTRY.get(step.type)
    return spec.task_action(step) if spec and spec.task_action else None


def label_of(value: str) -> str:
    """Return a type's label; an unregistered stored value shows as itself."""
    spec = _REGISTRY.get(value)
    return spec.label if spec else value


class UndeclaredSubStatus(ValueError):
    """A step was given a sub-status its type does not declare (a plug-in's mistake)."""


def check_sub_status(step_type: str, sub_status: str) -> None:
    """Refuse a sub-status that `step_type` does not declare in its `sub_statuses`.

    "No sub-status" is always allowed (a step that leaves in progress drops its own). Raises
    UndeclaredSubStatus naming the type and the sub-statuses it declares.
    """
    if sub_status == Step.SubStatus.NONE:
        return
    spec = _REGISTRY.get(step_type)
    if spec is None:
        raise UndeclaredSubStatus(
            f"Steps of type {str(step_type)!r} are not registered, so they have no sub-status "
            f"{str(sub_status)!r}."
        )
    if sub_status not in spec.sub_statuses:
        declared = ", ".join(repr(str(s)) for s in spec.sub_statuses if s) or "none"
        raise UndeclaredSubStatus(
            f"{spec.label} steps do not declare the sub-status {str(sub_status)!r} "
            f"(they declare {declared})."
        )


def cancel_declared_timers(step: Step) -> int:
    """Cancel the pending timers of the kinds `step`'s type declares (`timers`) for it.

    The engine calls this when the step finishes (done or skipped), so no type's chase
    outlives its step; types that declare no timers cost a dict lookup, no query.
    """
    spec = _REGISTRY.get(step.type)
    if spec is None or not spec.timers:
        return 0
    return timers.cancel_for(practice=step.practice_id, kinds=spec.timers, target_id=step.pk)


def email_paths(step_type: str) -> list[str]:
    """Return the Liquid paths a step email of `step_type` may write.

    Those of a step email's own groups (STEP_GROUPS), plus the variables the type declares
    (`variables`): an email step may not write a document approval's `document.title`.
    """
    paths = variables.known_paths(variables.Use(STEP_EMAIL, "", STEP_GROUPS))
    spec = _REGISTRY.get(step_type)
    if spec is not None:
        paths += [p for p in spec.variables if p not in paths]
    return paths


def email_token_groups(step_type: str) -> list[variables.TokenGroup]:
    """Return the token picker's groups for a step email of `step_type` (its email_paths)."""
    return variables.token_groups(STEP_EMAIL, only=set(email_paths(step_type)))


def behaviour_token_groups(step_type: str) -> list[variables.TokenGroup]:
    """Return the token picker's groups for the behaviour stage's token fields."""
    spec = _REGISTRY.get(step_type)
    if spec is not None and spec.behaviour_use:
        return variables.token_groups(spec.behaviour_use)
    return email_token_groups(step_type)


def values_where(test: Callable[[StepTypeSpec], bool]) -> list[str]:
    """Return the values of the registered types that pass `test`."""
    return [s.value for s in _REGISTRY.values() if test(s)]


register(
    StepTypeSpec(
        value=StepType.SIMPLE,
        label="Simple step",
        description="A checklist item: someone does the work, then marks it complete.",
        kind_phrase="a simple step",
        icon="✓",
        handler=step_handlers.SimpleHandler(),
        manual_reason="Simple steps are done by a person, so they are manual.",
        sends_email=False,
        wizard_stages=_MANUAL_ONLY,
        behaviour_intro="When the step becomes ready, and what the person checks off.",
        manual_note="<strong>Done by a person.</strong> When the step is ready, the assignee "
        "does the work and marks it complete.",
        manual_doing="someone does the work and marks it done",
    )
)
register(
    StepTypeSpec(
        value=StepType.EMAIL,
        label="Send email",
        description="Sends an email to the client or your team as part of the workflow.",
        kind_phrase="an email step",
        icon="✉",
        icon_template="workflows/step_types/_icon_email.html",
        handler=step_handlers.EmailHandler(),
        may_run_automatically=True,
        composable=True,
    )
)

MEMBER_RECIPIENTS = {
    "task_owner": "Task owner",
    "client_manager": "Client manager",
    "client_partner": "Client partner",
    "client_associate": "Client associate",
    "service_manager": "Service manager",
    "assignee": "Step assignee",
}
CONTACT_RECIPIENTS = {role: f"{role.capitalize()} contact" for role in CONTACT_ROLES}
CONTACT_RECIPIENTS["director"] = "Directors"

_TOKEN = re.compile(r"^(contact|member|email):(.+)$")


def recipient_choices() -> list[tuple[str, str]]:
    """Return (token, label) for every contact role and team role a step can send to."""
    return [(f"contact:{k}", v) for k, v in CONTACT_RECIPIENTS.items()] + [
        (f"member:{k}", v) for k, v in MEMBER_RECIPIENTS.items()
    ]


def recipient_label(token: str) -> str:
    kind, _, value = token.partition(":")
    if kind == "contact":
        return CONTACT_RECIPIENTS.get(value, token)
    if kind == "member":
        return MEMBER_RECIPIENTS.get(value, token)
    return value


def recipient_errors(tokens: Any) -> list[str]:
    if not isinstance(tokens, list):
        return ["Recipients must be a list."]
    problems = []
    for token in tokens:
        match = _TOKEN.match(str(token))
        if not match:
            problems.append(f"“{token}” is not a recipient.")
            continue
        kind, value = match.groups()
        if kind == "contact" and value not in CONTACT_RECIPIENTS:
            problems.append(f"There is no contact role “{value}”.")
        elif kind == "member" and value not in MEMBER_RECIPIENTS:
            problems.append(f"There is no team role “{value}”.")
        elif kind == "email":
            try:
                validate_email(value)
            except ValidationError:
                problems.append(f"“{value}” is not an email address.")
    return problems


def _int_between(value: Any, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def int_between(value: Any, low: int, high: int) -> bool:
    """Return whether `value` is a whole number (not a bool) from `low` to `high`."""
    return _int_between(value, low, high)


def settings_errors(step_type: str, data: dict) -> dict[str, list[str]]:
    """Return field → problems for a step type's `settings` (its declaration checks them)."""
    if not is_registered(step_type):
        return {}
    return get(step_type).settings_errors(data or {})


def mode_errors(step_type: str, mode: str) -> list[str]:
    """Return the problems of running a step of `step_type` in `mode` (empty when allowed)."""
    spec = _REGISTRY.get(step_type)
    if spec is None or mode != Mode.AUTOMATIC or spec.may_run_automatically:
        return []
    return [spec.manual_reason or f"{spec.label} steps are always manual."]


def config_errors(config) -> dict[str, list[str]]:
    """Return field → problems for a step configuration (template step or task step)."""
    errors: dict[str, list[str]] = {}
    if not is_registered(config.type):
        return {"type": ["Choose a step type."]}
    mode_problems = mode_errors(config.type, config.mode)
    if mode_problems:
        errors["mode"] = mode_problems
    if not str(config.name or "").strip():
        errors["name"] = ["Give the step a name."]
    if config.sends_email:
        known = email_paths(config.type)
        inline = config.subject.strip() and config.body.strip()
        # Types with a built-in email fall back to the practice's copy of it.
        needs_content = not get(config.type).default_content
        if needs_content and not config.content_block_id and not inline:
            errors["body"] = ["Choose a content block or write the subject and body."]
        elif bool(config.subject.strip()) != bool(config.body.strip()):
            errors["body"] = ["Write both the subject and the body, or neither."]
        for field in ("subject", "body"):
            problems = liquid.validate(getattr(config, field) or "", known)
            if problems:
                errors.setdefault(field, []).extend(problems)
        to_problems = recipient_errors(config.to_recipients)
        if not config.to_recipients:
            to_problems.append("Choose at least one recipient.")
        if to_problems:
            errors["to_recipients"] = to_problems
        cc_problems = recipient_errors(config.cc_recipients)
        if cc_problems:
            errors["cc_recipients"] = cc_problems
    for key, problems in settings_errors(config.type, config.settings or {}).items():
        errors.setdefault(f"settings.{key}", []).extend(problems)
    from workflows.timing import timing_errors  # timing reads the models this module does

    for key, problems in timing_errors(config).items():
        errors.setdefault(key, []).extend(problems)
    return errors
