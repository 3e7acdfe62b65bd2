"""The dry run: what a workflow will send, to whom and when, as far as it can be known.

`for_template(template, task)` plays a template as if attached to `task` now (nothing is
written); `for_task(task)` plays the task's own steps from where they stand. Both walk the
steps in dependency order. A step's start is known when every step it waits for finishes at
a known moment: automatic emails finish when they go out, at once or at their send rule's
moment (`workflows.timing.send_plan`, the same function the engine schedules with). A step a
person does, or one waiting for a client, finishes at an unknown moment, so what waits for
it is shown as "after … is done" (or "… is answered"). Chases of a client-facing step are
listed as what goes out if the client has not answered by then.

Each message is rendered by its type's handler (`draft`, which writes nothing: the portal
link is a placeholder), so the text shown is what the engine would send.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Callable

from dateutil.relativedelta import relativedelta
from django.utils import timezone

from sodium import engine as core_engine
from sodium.models import ClientService, Task
from workflows import assignment, handlers, timing
from workflows.handlers import Draft, StepFailure
from workflows.models import (
    Mode,
    Step,
    StepDependency,
    TemplateDependency,
    TemplateStep,
    WorkflowTemplate,
)

S = Step.Status


@dataclasses.dataclass
class Entry:
    """One line of the timeline: a message that goes out, or a step that waits on someone."""

    step: Step
    kind: str  # "send", "chase", "person", "sent"
    moment: dt.datetime | None = None  # None: not known yet (see `after`)
    after: str = ""  # what it waits for, in words, when the moment is not known
    note: str = ""
    draft: Draft | None = None
    number: int = 0  # a chase's number
    ready: dt.datetime | None = None  # when a person's step becomes theirs, if known

    @property
    def when(self) -> str:
        return timing.describe_moment(self.moment, self.step.task.practice) if self.moment else ""

    @property
    def ready_when(self) -> str:
        """When a person's step is theirs: "" (now, or unknown), else "Mon 7 Dec, 09:00"."""
        if self.ready is None or self.ready <= timezone.now():
            return ""
        return timing.describe_moment(self.ready, self.step.task.practice)


@dataclasses.dataclass
class _Finish:
    moment: dt.datetime | None
    waiting_on: str = ""  # why unknown: "“Prepare accounts” is done"


# A chase plan: (when the next chase is due or None, how many are left in this round).
ChasePlan = tuple[dt.datetime | None, int]
# Step type → fn(steps of that type being chased) -> {step id: ChasePlan}: how the app that
# chases them counts (portal registers its three; a round restarts when the client is asked
# again, which a step's own chase_count cannot tell). One call per type, whatever the steps.
CHASE_PLANS: dict[str, Callable[[list[Step]], dict[int, ChasePlan]]] = {}


def register_chase_plan(step_type: str, fn: Callable[[list[Step]], dict[int, ChasePlan]]) -> None:
    """Let the timeline ask `fn` about the chases still to come of steps being chased."""
    CHASE_PLANS[step_type] = fn


def _chase_plans(steps: list[Step]) -> dict[int, ChasePlan]:
    by_type: dict[str, list[Step]] = defaultdict(list)
    for step in steps:
        if step.status == S.IN_PROGRESS and step.type in CHASE_PLANS:
            by_type[step.type].append(step)
    plans: dict[int, ChasePlan] = {}
    for step_type, chased in by_type.items():
        plans.update(CHASE_PLANS[step_type](chased))
    return plans


def for_template(
    template: WorkflowTemplate, task: Task, *, now: dt.datetime | None = None
) -> list[Entry]:
    """Return the timeline of `template` attached to `task` at `now` (nothing is written)."""
    tsteps = list(
        TemplateStep.objects.filter(group__template=template)
        .select_related("group", "content_block", "specific_assignee")
        .order_by("group__position", "position", "id")
    )
    depends: dict[int, list[int]] = defaultdict(list)
    for step_id, on in TemplateDependency.objects.filter(
        step__group__template=template
    ).values_list("step_id", "depends_on_id"):
        depends[step_id].append(on)
    managers = {
        cs.service_id: cs.service_manager
        for cs in ClientService.objects.filter(
            client_id=task.client_id, service_id=task.service_id
        ).select_related("service_manager")
    }
    steps = []
    for ts in tsteps:
        who = assignment.resolve(
            ts.assignment_rule,
            task,
            specific=ts.specific_assignee,
            service_manager=managers.get(task.service_id),
        )
        step = Step(
            pk=ts.pk,  # stands in for the step's id while it is played; never saved
            practice_id=task.practice_id,
            task=task,
            status=S.BLOCKED if depends[ts.pk] else S.READY,
            assignee=who.user,
            assignee_team=who.team,
            **{f: getattr(ts, f) for f in _CONFIG},
        )
        step.content_block = ts.content_block
        steps.append(step)
    return _play(steps, depends, task, now or timezone.now())


def for_task(task: Task, *, now: dt.datetime | None = None) -> list[Entry]:
    """Return the timeline of the task's own steps from where they stand now."""
    steps = list(
        Step.objects.filter(task=task)
        .select_related("group", "content_block", "assignee", "assignee_team")
        .order_by("group__position", "position", "id")
    )
    for step in steps:
        step.task = task
    depends: dict[int, list[int]] = defaultdict(list)
    for step_id, on in StepDependency.objects.filter(step__task=task).values_list(
        "step_id", "depends_on_id"
    ):
        depends[step_id].append(on)
    return _play(steps, depends, task, now or timezone.now())


_CONFIG = (
    "name",
    "type",
    "mode",
    "settings",
    "content_block_id",
    "subject",
    "body",
    "to_recipients",
    "cc_recipients",
    "assignment_rule",
    "due_rule",
    "due_days",
    "send_rule",
    "send_days",
)


def _start(task: Task, now: dt.datetime) -> _Finish:
    if core_engine.is_started(task):
        return _Finish(now)
    if task.status == Task.Status.PLANNED and task.start_date:
        return _Finish(max(now, core_engine.start_moment(task)))
    return _Finish(None, "the task starts")


def _play(
    steps: list[Step], depends: dict[int, list[int]], task: Task, now: dt.datetime
) -> list[Entry]:
    finish: dict[int, _Finish] = {}
    entries: list[Entry] = []
    place = {s.pk: i for i, s in enumerate(steps)}  # the workflow's own order
    start = _start(task, now)
    plans = _chase_plans(steps)
    for step in _in_dependency_order(steps, depends):
        waits = [finish[d] for d in depends[step.pk] if d in finish]
        unknown = next((w for w in waits if w.moment is None), None)
        if step.status in Step.FINISHED:
            finish[step.pk] = _Finish(step.completed_at or now)
            if step.status == S.DONE and step.sends_email and step.completed_at:
                entries.append(Entry(step, "sent", step.completed_at))
            continue
        if unknown is not None:
            ready = None
        elif step.status in (S.READY, S.IN_PROGRESS, S.FAILED):
            ready = start.moment and max(step.ready_at or now, now)
            unknown = None if start.moment else start
        else:
            ready = max([w.moment for w in waits] + [start.moment]) if start.moment else None
            unknown = None if start.moment else start
        finish[step.pk] = _entries_for(step, ready, unknown, entries, now, plans.get(step.pk))
    # Known moments first, in time; then what waits on people, in the workflow's order.
    latest = dt.datetime.max.replace(tzinfo=dt.UTC)
    entries.sort(key=lambda e: (e.moment is None, e.moment or latest, place[e.step.pk], e.number))
    return entries


def _in_dependency_order(steps: list[Step], depends: dict[int, list[int]]) -> list[Step]:
    done: set[int] = set()
    ordered: list[Step] = []
    pending = list(steps)
    while pending:
        left = [s for s in pending if not all(d in done for d in depends[s.pk])]
        for step in pending:
            if step not in left:
                done.add(step.pk)
                ordered.append(step)
        if len(left) == len(pending):  # a cycle the editor would refuse: show them anyway
            ordered += left
            break
        pending = left
    return ordered


def _entries_for(
    step: Step,
    ready: dt.datetime | None,
    unknown: _Finish | None,
    entries: list,
    now: dt.datetime,
    planned: ChasePlan | None = None,
) -> _Finish:
    spec = step.type_spec
    after = unknown.waiting_on if unknown else ""
    if step.status == S.FAILED:
        entries.append(Entry(step, "person", note=f"Failed: {step.failure_reason} Retry it."))
        return _Finish(None, f"“{step.name}” is retried")
    if step.status == S.IN_PROGRESS:  # sent; the client (or a review) answers next
        if _waits_on_client(step):  # not once they submitted, or rejected a document
            if planned is None:
                _chases(step, step.started_at or now, entries)
            else:
                _planned_chases(step, *planned, entries)
        return _Finish(None, f"the client answers “{step.name}”")
    if not spec.sends_email or step.mode == Mode.MANUAL:
        draft = _draft(step) if spec.sends_email and spec.composable else None
        who = step.assignee.full_name if step.assignee else "someone"
        doing = "sends it" if spec.sends_email else "does it"
        entries.append(
            Entry(step, "person", after=after, note=f"{who} {doing}", draft=draft, ready=ready)
        )
        return _Finish(None, f"“{step.name}” is done")
    # An automatic step that sends.
    moment = None
    note = ""
    if ready is not None:
        if step.scheduled_for:
            moment = step.scheduled_for
        else:
            plan = timing.send_plan(step, task=step.task, practice=step.task.practice, now=ready)
            moment, note = (plan.moment or ready), plan.note
    entries.append(Entry(step, "send", moment, after=after, note=note, draft=_draft(step)))
    if spec.client_facing:
        if moment is not None:
            _chases(step, moment, entries)
        return _Finish(None, f"the client answers “{step.name}”")
    return _Finish(moment, after)


def _waits_on_client(step: Step) -> bool:
    """Return whether an in-progress client-facing step is chased: the client owes the
    answer (a type that `waits_when_rejected` was sent back to the client)."""
    sub = step.sub_status
    if sub == Step.SubStatus.AWAITING_RESPONSE:
        return True
    return sub == Step.SubStatus.REJECTED and step.type_spec.waits_when_rejected


def _planned_chases(
    step: Step, next_at: dt.datetime | None, left: int, entries: list[Entry]
) -> None:
    """The chases still to come of a step being chased, from its app's own count: `left` of
    them in this round, the first at `next_at`, then every N days."""
    every = ((step.settings or {}).get("chase") or {}).get("every_days")
    if next_at is None or not isinstance(every, int):
        return
    for i in range(left):
        entries.append(
            Entry(
                step,
                "chase",
                next_at + relativedelta(days=every * i),
                note="if the client has not answered by then",
                number=step.chase_count + 1 + i,
            )
        )


def _chases(step: Step, sent: dt.datetime, entries: list[Entry]) -> None:
    chase = (step.settings or {}).get("chase") or {}
    every, times = chase.get("every_days"), chase.get("max_times")
    if not chase.get("enabled") or not isinstance(every, int) or not isinstance(times, int):
        return
    for n in range(max(step.chase_count, 0) + 1, times + 1):
        entries.append(
            Entry(
                step,
                "chase",
                sent + relativedelta(days=every * n),
                note="if the client has not answered by then",
                number=n,
            )
        )


def _draft(step: Step) -> Draft | None:
    try:
        return handlers.get(step.type).draft(step)
    except StepFailure as exc:
        return Draft(problems=[str(exc)])
