"""The review in words, and the live preview of the content stage's email."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sodium import liquid
from sodium.messaging import builtins
from sodium.models import Client, Practice, Task
from workflows import step_types
from workflows.context import build_context, sample_context
from workflows.models import AssignmentRule, ContentBlock, Mode, TemplateStep
from workflows.step_types import recipient_label
from workflows.timing import describe_due_rule, describe_send_rule
from workflows.wizard.drafts import WizardContext, spec, step_type
from workflows.wizard.forms import ContentForm
from workflows.wizard.steps import Parsed, parse


def _quote(text: str) -> str:
    return f"‘{text}’"


def _names(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _recipients(tokens: list[str]) -> str:
    return "; ".join(recipient_label(t) for t in tokens)


def built_in_block(practice: Practice, kind: str) -> tuple[str, str, str]:
    """Return (name, subject, body) of the practice's built-in email for a step type.

    Reads the practice's edited copy when there is one; never creates it (that happens the
    first time the app that owns the type sends it).
    """
    # The type declares its built-in block; the app registers the block's text when it loads.
    key = step_types.get(kind).default_content
    block = ContentBlock.objects.filter(practice=practice, system_key=key).first()
    if block is not None:
        return block.name, block.subject, block.body
    default = builtins.get_builtin(key)
    return default.name, default.subject, default.body


@dataclass
class Section:
    stage: str
    title: str
    lines: list[str]


def kind_phrase(kind: str) -> str:
    """Return how the review's first line names a type: "‘Collect records’, a document request."

    (Not the type's label: "Simple step" and "Send email" read "a simple step step".)
    """
    return step_types.get(kind).kind_phrase


def summary(draft: dict, ctx: WizardContext) -> list[Section]:
    """Return the review: what the step will do, in sentences, one section per stage."""
    parsed = parse(draft, ctx)
    f, kind, type_spec = parsed.fields, step_type(draft), spec(draft)
    settings = f["settings"]
    sections = [
        Section(
            "name",
            "Name",
            [f"{_quote(f['name'] or 'Untitled')}, {type_spec.kind_phrase}."]
            + ([f"Notes: {f['description']}"] if f["description"] else [])
            + type_spec.review_name_lines(settings),
        )
    ]
    if type_spec.sends_email:
        if parsed.source == "block" and f["content_block"] is not None:
            what = f"Sends the {_quote(f['content_block'].name)} block"
        elif parsed.source == "inline":
            what = f"Sends its own email, {_quote(f['subject'])},"
        elif type_spec.default_content:
            what = f"Sends the built-in email {_quote(built_in_block(ctx.practice, kind)[0])}"
        else:
            what = "Sends an email (not chosen yet)"
        sections.append(Section("content", "Content", [f"{what} to the recipients below."]))
        to = _recipients(f["to_recipients"]) or "nobody yet"
        line = f"To: {to}."
        if f["cc_recipients"]:
            line += f" CC: {_recipients(f['cc_recipients'])}."
        sections.append(Section("recipients", "Recipients", [line]))
    sections.append(Section("behaviour", "Behaviour", _behaviour_lines(parsed, kind, settings)))
    sections.append(Section("assignment", "Assignment", [_assignment_line(f)]))
    sections.append(Section("assignment", "Timing", _timing_lines(parsed, type_spec)))
    return sections


def _timing_lines(parsed: Parsed, type_spec: step_types.StepTypeSpec) -> list[str]:
    """Return the due and send rules in the template editor's words (workflows.timing)."""
    f = parsed.fields
    config = TemplateStep(
        due_rule=f["due_rule"],
        due_days=f["due_days"],
        send_rule=f["send_rule"],
        send_days=f["send_days"],
    )
    lines = [(describe_due_rule(config) or "No due date of its own") + "."]
    send = describe_send_rule(config)
    if send:
        lines.append(f"{send}.")
    elif f["mode"] == Mode.AUTOMATIC and type_spec.sends_email:
        lines.append("Goes out as soon as it may start.")
    return lines


def _behaviour_lines(parsed: Parsed, kind: str, settings: dict[str, Any]) -> list[str]:
    after = _names([_quote(s.name) for s in parsed.depends_on])
    verb = "is" if len(parsed.depends_on) == 1 else "are"
    if parsed.fields["mode"] == Mode.AUTOMATIC:
        when = f"as soon as {after} {verb} done" if after else "as soon as the task starts"
        lines = [f"Runs automatically {when}."]
    else:
        when = f"once {after} {verb} done" if after else "when the task starts"
        doing = step_types.get(kind).manual_doing
        lines = [f"Manual: it becomes ready {when}; {doing}."]
    lines += step_types.get(kind).review_behaviour_lines(settings)
    if parsed.checklist:
        lines.append(f"Checklist: {'; '.join(parsed.checklist)}.")
    else:
        lines.append("No checklist.")
    return lines


def _assignment_line(f: dict[str, Any]) -> str:
    rule = f["assignment_rule"]
    if rule == AssignmentRule.UNASSIGNED:
        return "Left unassigned for anyone to pick up."
    if rule == AssignmentRule.SPECIFIC:
        person = f["specific_assignee"]
        return f"Assigned to: {person.full_name if person else 'a member (not chosen yet)'}."
    return f"Assigned to: {AssignmentRule(rule).label}."


# --- preview ----------------------------------------------------------------------------------


@dataclass
class Preview:
    subject: str = ""
    body: str = ""
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    client: Client | None = None
    task: Task | None = None


def _lookup(context: dict[str, Any], path: str) -> Any:
    node: Any = context
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return ""
        node = node[part]
    return node


def preview(draft: dict, ctx: WizardContext, form: ContentForm) -> Preview:
    """Render the content stage's email for the chosen client (or the sample client).

    Uses the client's latest task for task variables. Problems (Liquid errors, unknown
    variables) are returned rather than raised, to show beside the editor.
    """
    form.is_valid()
    data = getattr(form, "cleaned_data", {})
    source = data.get("source") or ""
    kind = step_type(draft)
    out = Preview(client=data.get("preview_client"))
    if source == "block":
        block = data.get("content_block")
        if block is None:
            out.problems.append("Choose a content block to preview it.")
            return out
        subject, body = block.subject, block.body
    elif source == "default" and spec(draft).default_content:
        _name, subject, body = built_in_block(ctx.practice, kind)
    else:
        subject, body = form.data.get("subject", ""), form.data.get("body", "")
        if not (subject.strip() or body.strip()):
            out.notes.append("Write a subject and body to see them here.")
            return out
    known_paths = step_types.email_paths(kind)
    for label, source_text in (("Subject", subject), ("Body", body)):
        out.problems += [f"{label}: {p}" for p in liquid.validate(source_text, known_paths)]

    parsed = parse(draft, ctx)
    settings = parsed.fields["settings"]
    extra: dict[str, Any] = {
        "step": {"name": parsed.fields["name"], "deadline": ""},
        "action_link": "https://…/portal/ (made when the step runs)",
    }
    # The type's own variables (a deadline, the document, what the client confirms).
    for key, value in step_types.get(kind).preview_values(settings).items():
        if isinstance(value, dict) and isinstance(extra.get(key), dict):
            extra[key] = {**extra[key], **value}
        else:
            extra[key] = value
    if out.client is not None:
        out.task = (
            Task.objects.filter(practice=ctx.practice, client=out.client)
            .select_related("service", "owner")
            .order_by("-created_at", "-pk")
            .first()
        )
        context = build_context(practice=ctx.practice, client=out.client, task=out.task)
        context.update(extra)
        if out.task is None:
            out.notes.append(f"{out.client.name} has no tasks, so task variables are empty.")
    else:
        context = sample_context(ctx.practice)
        for key, value in extra.items():
            if isinstance(value, dict):
                context.setdefault(key, {}).update({k: v for k, v in value.items() if v})
            else:
                context[key] = value
    try:
        rendered = liquid.render_message(subject, body, context)
    except liquid.TemplateError as exc:
        out.problems.append(f"The email could not be written: {exc}")
        return out
    out.subject, out.body = rendered.subject, rendered.text
    if out.client is not None:
        empty = set()
        for text in (subject, body):
            try:
                paths = liquid.compile_template(text).global_variable_paths(include_partials=False)
            except liquid.TemplateError:
                continue
            known = [p for p in paths if not liquid.validate("{{ " + p + " }}", known_paths)]
            empty |= {p for p in known if _lookup(context, p) in ("", None)}
        if empty:
            out.notes.append(
                f"No value for {out.client.name}: "
                + ", ".join(f"{{{{ {p} }}}}" for p in sorted(empty))
                + ". Add a fallback with | default: where it matters."
            )
    return out
