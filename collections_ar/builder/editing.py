"""Building AR workflows: create, change the general settings, clone, delete, the default;
add, change, reorder and delete actions.

Every function is one transaction with one activity event and refuses with `ARError`
(field → message) before writing anything: a taken or empty name, a chain that would loop
back on itself (naming the loop), an incomplete action (an email with no template …), an
SMS action on a workflow whose customers cannot be texted, deleting the last action of an
ON workflow. Switching a workflow ON or OFF is `collections_ar.engine.switch_workflow`.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from collections_ar.builder import rules
from collections_ar.errors import ARError
from collections_ar.models import ARAction, ARWorkflow, Customer
from sodium import activity
from sodium.models import Practice, User

K = ARAction.Kind
ACTION_FIELDS = (
    "kind",
    "base",
    "days",
    "subject",
    "body",
    "content_block",
    "collection_status",
    "user",
)


def _event(workflow: ARWorkflow, actor: User | None, verb: str, summary: str) -> None:
    activity.record(
        practice=workflow.practice_id, actor=actor, verb=verb, summary=summary, obj=workflow
    )


def _name(practice_id: int, name: str, *, exclude: int | None = None) -> str:
    name = (name or "").strip()
    if not name:
        raise ARError({"name": "Give the workflow a name."})
    if len(name) > 120:
        raise ARError({"name": "Keep the name to 120 characters."})
    taken = ARWorkflow.objects.filter(practice=practice_id, name__iexact=name)
    if exclude is not None:
        taken = taken.exclude(pk=exclude)
    if taken.exists():
        raise ARError({"name": f"There is already a workflow called “{name}”."})
    return name


def _description(text: str) -> str:
    text = (text or "").strip()
    if len(text) > 500:
        raise ARError({"description": "Keep the description to 500 characters."})
    return text


def _touch(workflow: ARWorkflow) -> None:
    workflow.updated_at = timezone.now()
    workflow.save(update_fields=["updated_at"])


@transaction.atomic
def create_workflow(
    practice: Practice, *, actor: User | None, name: str, description: str = ""
) -> ARWorkflow:
    """Create an empty workflow, OFF."""
    name = _name(practice.pk, name)
    description = _description(description)
    try:
        with transaction.atomic():
            workflow = ARWorkflow.objects.create(
                practice=practice, name=name, description=description
            )
    except IntegrityError as exc:
        raise ARError({"name": f"There is already a workflow called “{name}”."}) from exc
    _event(workflow, actor, "ar.workflow.created", f"Created AR workflow “{name}”")
    return workflow


@transaction.atomic
def update_workflow(
    workflow: ARWorkflow,
    *,
    actor: User | None,
    name: str,
    description: str,
    continue_with: ARWorkflow | None,
) -> ARWorkflow:
    """Change the name, description and the workflow to continue with.

    Raises ARError for an empty or taken name, continuing with itself, or a chain that
    would come back to this workflow (naming every workflow around the loop).
    """
    workflow = ARWorkflow.objects.select_for_update().get(pk=workflow.pk)
    errors: dict[str, str] = {}
    try:
        name = _name(workflow.practice_id, name, exclude=workflow.pk)
    except ARError as exc:
        errors.update(exc.errors)
    try:
        description = _description(description)
    except ARError as exc:
        errors.update(exc.errors)
    if continue_with is not None:
        if continue_with.practice_id != workflow.practice_id:
            errors["continue_with"] = "Choose one of this practice's workflows."
        elif continue_with.pk == workflow.pk:
            errors["continue_with"] = "A workflow cannot continue with itself."
        else:
            # Lock the chain's rows in one order so two saves cannot each close half a loop.
            list(
                ARWorkflow.objects.select_for_update()
                .filter(practice=workflow.practice_id)
                .order_by("pk")
                .values_list("pk", flat=True)
            )
            loop = rules.chain_loop(workflow, continue_with)
            if loop:
                errors["continue_with"] = (
                    "That would make a loop: " + " → ".join(loop) + ". Choose another workflow."
                )
    if errors:
        raise ARError(errors)
    changed = []
    for field, value in (
        ("name", name),
        ("description", description),
        ("continue_with", continue_with),
    ):
        if getattr(workflow, field) != value:
            setattr(workflow, field, value)
            changed.append(field)
    if changed:
        workflow.updated_at = timezone.now()
        workflow.save(update_fields=[*changed, "updated_at"])
        then = f"; continues with “{continue_with.name}”" if continue_with else ""
        _event(workflow, actor, "ar.workflow.updated", f"Saved AR workflow “{name}”{then}")
    return workflow


def _copy_name(practice_id: int, name: str) -> str:
    taken = {
        n.lower()
        for n in ARWorkflow.objects.filter(practice=practice_id).values_list("name", flat=True)
    }
    base = f"Copy of {name}"[:110]
    candidate, n = base, 2
    while candidate.lower() in taken:
        candidate, n = f"{base} ({n})", n + 1
    return candidate


@transaction.atomic
def clone_workflow(workflow: ARWorkflow, *, actor: User | None) -> ARWorkflow:
    """Copy the workflow with its actions as "Copy of …", OFF, with no customers."""
    copy = ARWorkflow.objects.create(
        practice_id=workflow.practice_id,
        name=_copy_name(workflow.practice_id, workflow.name),
        description=workflow.description,
        continue_with=workflow.continue_with,
    )
    actions = list(ARAction.objects.filter(practice=workflow.practice_id, workflow=workflow))
    ARAction.objects.bulk_create(
        [
            ARAction(
                practice_id=workflow.practice_id,
                workflow=copy,
                position=a.position,
                **{f: getattr(a, f) for f in ACTION_FIELDS},
            )
            for a in actions
        ]
    )
    _event(copy, actor, "ar.workflow.cloned", f"Cloned “{workflow.name}” as “{copy.name}”")
    return copy


@transaction.atomic
def delete_workflow(workflow: ARWorkflow, *, actor: User | None) -> None:
    """Delete a workflow no customer is on and no other workflow continues with."""
    customers = Customer.objects.filter(practice=workflow.practice_id, workflow=workflow)
    count = customers.count()
    if count:
        names = ", ".join(
            customers.order_by("client__name").values_list("client__name", flat=True)[:3]
        )
        raise ARError(
            {
                "__all__": f"“{workflow.name}” is assigned to {count} customer"
                f"{'s' if count != 1 else ''} ({names}{' …' if count > 3 else ''}); "
                "assign them another workflow first."
            }
        )
    before = list(
        ARWorkflow.objects.filter(practice=workflow.practice_id, continue_with=workflow)
        .order_by("name")
        .values_list("name", flat=True)
    )
    if before:
        raise ARError(
            {
                "__all__": f"{', '.join(f'“{n}”' for n in before)} continue"
                f"{'s' if len(before) == 1 else ''} with “{workflow.name}”; change that first."
            }
        )
    if workflow.is_default:
        raise ARError(
            {"__all__": f"“{workflow.name}” is the default workflow; choose another first."}
        )
    _event(workflow, actor, "ar.workflow.deleted", f"Deleted AR workflow “{workflow.name}”")
    workflow.delete()


@transaction.atomic
def set_default_workflow(
    workflow: ARWorkflow | None, practice: Practice, *, actor: User | None
) -> None:
    """Make `workflow` the one new customers get (None: no default)."""
    if workflow is not None:
        # Read it again, locked: one switched OFF meanwhile must not become the default.
        workflow = ARWorkflow.objects.select_for_update().get(pk=workflow.pk)
        if not workflow.is_on:
            raise ARError({"__all__": f"Switch “{workflow.name}” on before making it the default."})
    ARWorkflow.objects.filter(practice=practice, is_default=True).update(is_default=False)
    if workflow is not None:
        ARWorkflow.objects.filter(pk=workflow.pk).update(is_default=True)
        summary = f"“{workflow.name}” is the default AR workflow"
    else:
        summary = "No default AR workflow"
    activity.record(practice=practice, actor=actor, verb="ar.workflow.default", summary=summary)


# --- actions --------------------------------------------------------------------------------


def _clean_fields(fields: dict[str, Any]) -> dict[str, Any]:
    kind = fields.get("kind")
    own = rules.FIELDS.get(kind, ())
    out: dict[str, Any] = {
        "kind": kind,
        "base": fields.get("base") or ARAction.Base.ASSIGNED,
        "days": fields.get("days"),
    }
    for field in ("subject", "body"):
        out[field] = (fields.get(field) or "").strip() if field in own else ""
    for field in ("content_block", "collection_status", "user"):
        out[field] = fields.get(field) if field in own else None
    if out["content_block"] is not None:  # a block replaces text written here
        out["subject"] = out["body"] = ""
    return out


def _check_action(workflow: ARWorkflow, fields: dict[str, Any]) -> None:
    errors = rules.action_errors(workflow.practice, fields)
    if not errors and fields["kind"] == K.SMS:
        if error := rules.sms_audience_error(workflow):
            errors["__all__"] = error
    if errors:
        raise ARError(errors)


@transaction.atomic
def add_action(workflow: ARWorkflow, *, actor: User | None, **fields: Any) -> ARAction:
    """Add an action at the end of the workflow (fields as `rules.action_errors` reads)."""
    workflow = ARWorkflow.objects.select_for_update().get(pk=workflow.pk)
    fields = _clean_fields(fields)
    _check_action(workflow, fields)
    last = ARAction.objects.filter(practice=workflow.practice_id, workflow=workflow).aggregate(
        m=Max("position")
    )["m"]
    action = ARAction.objects.create(
        practice_id=workflow.practice_id,
        workflow=workflow,
        position=0 if last is None else last + 1,
        **fields,
    )
    _touch(workflow)
    _event(
        workflow,
        actor,
        "ar.action.added",
        f"“{workflow.name}”: added “{action.get_kind_display()}”, {action.timing_label}",
    )
    return action


@transaction.atomic
def update_action(action: ARAction, *, actor: User | None, **fields: Any) -> ARAction:
    """Change an action's timing and its own fields (its kind stays)."""
    workflow = ARWorkflow.objects.select_for_update().get(pk=action.workflow_id)
    fields = _clean_fields({**fields, "kind": action.kind})
    _check_action(workflow, fields)
    for field, value in fields.items():
        setattr(action, field, value)
    action.save(update_fields=list(fields))
    _touch(workflow)
    _event(
        workflow,
        actor,
        "ar.action.updated",
        f"“{workflow.name}”: changed “{action.get_kind_display()}”, {action.timing_label}",
    )
    return action


@transaction.atomic
def delete_action(action: ARAction, *, actor: User | None) -> None:
    """Delete an action; the last one of an ON workflow is refused."""
    workflow = ARWorkflow.objects.select_for_update().get(pk=action.workflow_id)
    others = ARAction.objects.filter(practice=workflow.practice_id, workflow=workflow).exclude(
        pk=action.pk
    )
    if workflow.is_on and not others.exists():
        raise ARError({"__all__": "An ON workflow needs at least one action: switch it off first."})
    label = action.get_kind_display()
    action.delete()
    _touch(workflow)
    _event(workflow, actor, "ar.action.deleted", f"“{workflow.name}”: deleted “{label}”")


@transaction.atomic
def move_action(action: ARAction, *, actor: User | None, up: bool) -> list[ARAction]:
    """Move the action one place earlier or later (nothing at either end)."""
    workflow = ARWorkflow.objects.select_for_update().get(pk=action.workflow_id)
    actions = list(ARAction.objects.filter(practice=workflow.practice_id, workflow=workflow))
    i = next(n for n, a in enumerate(actions) if a.pk == action.pk)
    j = i - 1 if up else i + 1
    if not 0 <= j < len(actions):
        return actions
    actions[i], actions[j] = actions[j], actions[i]
    for position, a in enumerate(actions):
        a.position = position
    ARAction.objects.bulk_update(actions, ["position"])
    _touch(workflow)
    _event(
        workflow,
        actor,
        "ar.action.moved",
        f"“{workflow.name}”: moved “{action.get_kind_display()}” {'up' if up else 'down'}",
    )
    return actions
