"""Editing check-based flows: flow templates (add, change, archive) and repeating flows
(edit from the next run, pause, resume)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable

from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.db.models import Max

from checks.flows.cadence import Cadence, ClientDateMissing
from checks.flows.making import (
    MAX_CLIENTS,
    ClientTeam,
    FlowError,
    check_refs,
    first_runs,
    reschedule_flow,
    team_errors,
)
from checks.models import (
    Category,
    Flow,
    FlowCheck,
    FlowClient,
    FlowRun,
    FlowTemplate,
    FlowTemplateCheck,
)
from sodium import activity
from sodium.models import Client, Practice, User
from sodium.schedules.practice import today_for, working_calendar

# --- flow-creator: flow templates --------------------------------------------------------------


def _template_fields(
    practice: Practice, name: str, category: str, refs: list[str], exclude_pk: int | None = None
):
    """Check a template's fields; return (name, refs); raise FlowError by field."""
    errors: dict[str, str] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = "Give the template a name."
    elif (
        FlowTemplate.objects.filter(practice=practice, name__iexact=name)
        .exclude(pk=exclude_pk)
        .exists()
    ):
        errors["name"] = "The practice has a template of that name already."
    if category not in Category.values:
        errors["category"] = "Choose a category."
    try:
        checked = check_refs(practice, refs)
    except FlowError as exc:
        errors.update(exc.errors)
        checked = []
    if errors:
        raise FlowError(errors)
    return name[:200], checked


def _write_template_checks(template: FlowTemplate, checked) -> None:
    template.checks.all().delete()
    FlowTemplateCheck.objects.bulk_create(
        FlowTemplateCheck(
            practice_id=template.practice_id,
            template=template,
            position=i,
            check_key=key,
            custom_check=custom,
        )
        for i, (key, custom) in enumerate(checked)
    )


@transaction.atomic
def create_template(
    practice: Practice,
    *,
    actor: User,
    name: str,
    checks: Iterable[str],
    description: str = "",
    category: str = Category.OTHER,
) -> FlowTemplate:
    """Make a flow template of the ordered checks ("builtin:<key>" / "custom:<id>").

    Raises FlowError by field: no name, a name the practice uses, no or unknown checks.
    """
    name, checked = _template_fields(practice, name, category, list(checks))
    template = FlowTemplate.objects.create(
        practice=practice,
        name=name,
        description=description.strip(),
        category=category,
        created_by=actor,
    )
    _write_template_checks(template, checked)
    activity.record(
        practice=practice,
        verb="flow_template.created",
        summary=f"Created the flow template {template.name}",
        actor=actor,
        obj=template,
    )
    return template


@transaction.atomic
def update_template(
    template: FlowTemplate,
    *,
    actor: User,
    name: str,
    checks: Iterable[str],
    description: str,
    category: str,
) -> FlowTemplate:
    """Change a flow template's name, description, category and ordered checks.

    Flows made from it keep their own checks. Raises FlowError by field.
    """
    template = FlowTemplate.objects.select_for_update().get(pk=template.pk)
    name, checked = _template_fields(
        template.practice, name, category, list(checks), exclude_pk=template.pk
    )
    template.name, template.description, template.category = name, description.strip(), category
    template.save(update_fields=["name", "description", "category"])
    _write_template_checks(template, checked)
    activity.record(
        practice=template.practice_id,
        verb="flow_template.changed",
        summary=f"Changed the flow template {template.name}",
        actor=actor,
        obj=template,
    )
    return template


@transaction.atomic
def archive_template(template: FlowTemplate, *, actor: User) -> FlowTemplate:
    """Archive a flow template: the creator no longer offers it; flows made from it go on."""
    template = FlowTemplate.objects.select_for_update().get(pk=template.pk)
    if template.archived:
        return template
    template.archived = True
    template.save(update_fields=["archived"])
    activity.record(
        practice=template.practice_id,
        verb="flow_template.archived",
        summary=f"Archived the flow template {template.name}",
        actor=actor,
        obj=template,
    )
    return template


# --- flow-dashboard: editing, pausing and resuming a repeating flow ----------------------------


def _lock_repeating(flow: Flow, doing: str) -> Flow:
    flow = Flow.objects.select_for_update().select_related("practice").get(pk=flow.pk)
    if flow.kind != Flow.Kind.REPEATING:
        raise FlowError(f"Only a repeating flow can be {doing}.")
    return flow


def _same_cadence(old: Cadence, new: Cadence) -> bool:
    """Whether `new` (as a form gives it, without a start) is the stored cadence."""
    return dataclasses.replace(new, start=old.start) == old


@transaction.atomic
def update_flow(
    flow: Flow,
    *,
    actor: User,
    name: str,
    checks: Iterable[str],
    cadence: Cadence,
    clients: Iterable[ClientTeam],
    today: dt.date | None = None,
) -> Flow:
    """Edit a repeating flow: its name, checks (in order), cadence, clients and their teams.

    The edit applies from each client's next run: runs already made — started or not — keep
    their checks, client, team and dates. The flow's version goes up; new clients' next
    dates come from the cadence after today; removed clients make no more runs; a changed
    cadence carries on from each client's last run (its first new run is the first whose
    period ends after the last run's, made by the next sweep if its date has passed), so no
    period is skipped; a client with no runs yet starts after today. The checks' rules are
    kept as they are.

    Raises FlowError (nothing written) for anything the creator would refuse.
    """
    flow = _lock_repeating(flow, "edited")
    practice = flow.practice
    today = today or today_for(practice)
    clients = tuple(clients)
    errors: dict[str, str] = {}
    if not name.strip():
        errors["name"] = "Give the flow a name."
    # A custom check archived since it was added stays while the flow keeps it.
    kept = FlowCheck.objects.filter(flow=flow, custom_check__isnull=False).values_list(
        "custom_check_id", flat=True
    )
    try:
        refs = check_refs(practice, checks, kept=kept)
    except FlowError as exc:
        errors.update(exc.errors)
        refs = []
    errors.update(cadence.errors())
    ids = [t.client_id for t in clients]
    if not ids:
        errors["clients"] = "Keep at least one client."
    elif len(set(ids)) != len(ids):
        errors["clients"] = "A client is added twice."
    elif len(ids) > MAX_CLIENTS:
        errors["clients"] = f"At most {MAX_CLIENTS:,} clients in one flow."
    current = {fc.client_id: fc for fc in FlowClient.objects.filter(flow=flow)}
    new_ids = [i for i in ids if i not in current]
    found = {
        c.pk: c
        for c in Client.objects.filter(
            practice=practice, pk__in=new_ids, status=Client.Status.ACTIVE
        )
    }
    if len(found) != len(set(new_ids)):
        errors["clients"] = "One of the added clients is not an active client of the practice."
    bad_teams = team_errors(practice, clients)
    if bad_teams:
        named = dict(
            Client.objects.filter(practice=practice, pk__in=list(bad_teams)[:3]).values_list(
                "pk", "name"
            )
        )
        names = ", ".join(named.get(i, "") for i in list(bad_teams)[:3])
        errors["team"] = f"{next(iter(bad_teams.values()))} ({names})"
    old_cadence = Cadence.from_json(flow.cadence)
    changed = not _same_cadence(old_cadence, cadence)
    keep = [i for i in ids if i in current]
    # A changed cadence carries on from each kept client's last run: its first run is the
    # first whose period ends after the last run's (even if its date has passed: the next
    # sweep makes it), so no period goes unreviewed between the two cadences.
    covered = _last_runs(flow, keep) if changed else {}
    since = min([today, *(sched for sched, _ in covered.values())])
    stored = cadence.starting_after(since) if changed else old_cadence
    # Whose next date to work out: the new clients, and everyone when the cadence changed.
    to_date = set(new_ids) | (set(keep) if changed else set())
    firsts: dict[int, object] = {}
    if to_date and not errors:
        dated = dict(found)
        if changed and keep:
            dated.update((c.pk, c) for c in Client.objects.filter(practice=practice, pk__in=keep))
        fresh = [c for i, c in dated.items() if i not in covered]
        firsts, missing = first_runs(practice, stored, fresh, today)
        carried, gone = _first_uncovered(practice, stored, dated, covered)
        firsts.update(carried)
        missing.update(gone)
        if missing:
            shown = "; ".join(f"{dated[i].name}: {why}" for i, why in list(missing.items())[:5])
            more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
            errors["clients"] = f"These clients have no date for this cadence — {shown}{more}."
    if errors:
        raise FlowError(errors)

    flow.name = name.strip()[:200]
    flow.cadence = stored.to_json()
    flow.version += 1
    flow.save(update_fields=["name", "cadence", "version"])
    FlowCheck.objects.filter(flow=flow).delete()
    FlowCheck.objects.bulk_create(
        FlowCheck(practice=practice, flow=flow, position=i, check_key=key, custom_check=custom)
        for i, (key, custom) in enumerate(refs)
    )
    removed = [cid for cid in current if cid not in set(ids)]
    FlowClient.objects.filter(flow=flow, client_id__in=removed).delete()
    updated, added = [], []
    for team in clients:
        fc = current.get(team.client_id)
        if fc is None:
            fc = FlowClient(practice=practice, flow=flow, client_id=team.client_id)
            added.append(fc)
        else:
            updated.append(fc)
        fc.assignee_id = team.assignee_id
        fc.reviewer_id = team.reviewer_id
        fc.second_reviewer_id = team.second_reviewer_id
        if team.client_id in to_date:
            first = firsts[team.client_id]
            fc.next_date = first.scheduled
            fc.generated_until = min(today, first.scheduled - relativedelta(days=1))
            fc.skip_reason = ""
    FlowClient.objects.bulk_update(
        updated,
        ["assignee", "reviewer", "second_reviewer", "next_date", "generated_until", "skip_reason"],
        batch_size=1000,
    )
    FlowClient.objects.bulk_create(added, batch_size=1000)
    reschedule_flow(flow)
    activity.record(
        practice=practice,
        verb="flow.edited",
        summary=f"Edited the flow {flow.name} (version {flow.version}): {len(refs)} check"
        f"{'s' if len(refs) != 1 else ''}, {len(ids)} client{'s' if len(ids) != 1 else ''}"
        + (f", {len(added)} added" if added else "")
        + (f", {len(removed)} removed" if removed else ""),
        actor=actor,
        obj=flow,
    )
    return flow


def _last_runs(flow: Flow, client_ids: list[int]) -> dict[int, tuple[dt.date, dt.date]]:
    """Return each client's latest run of the flow: {client id: (scheduled date, period end)}."""
    rows = (
        FlowRun.objects.filter(flow=flow, client_id__in=client_ids)
        .values("client_id")
        .annotate(scheduled=Max("scheduled_date"), end=Max("period_end"))
        .order_by()
    )
    return {r["client_id"]: (r["scheduled"], r["end"]) for r in rows}


def _first_uncovered(
    practice: Practice,
    cadence: Cadence,
    clients: dict[int, Client],
    covered: dict[int, tuple[dt.date, dt.date]],
) -> tuple[dict[int, object], dict[int, str]]:
    """Return, for each client with runs, the cadence's first run after its last one whose
    period ends later than the last run's, and the clients without one ({id: why})."""
    calendar = working_calendar(practice)
    firsts, missing = {}, {}
    for client_id, (scheduled, end) in covered.items():
        client = clients.get(client_id)
        if client is None:
            continue
        try:
            found = cadence.next_runs(
                24, after=scheduled + relativedelta(days=1), calendar=calendar, client=client
            )
        except ClientDateMissing as exc:
            missing[client_id] = str(exc)
            continue
        later = [run for run in found if run.period.end > end]
        if later:
            firsts[client_id] = later[0]
        else:
            missing[client_id] = "no date in the next years"
    return firsts, missing


@transaction.atomic
def pause_flow(flow: Flow, *, actor: User) -> Flow:
    """Stop a repeating flow making runs until it is resumed; its runs stay as they are."""
    flow = _lock_repeating(flow, "paused")
    if flow.paused:
        return flow
    flow.paused = True
    flow.save(update_fields=["paused"])
    activity.record(
        practice=flow.practice,
        verb="flow.paused",
        summary=f"Paused the flow {flow.name}",
        actor=actor,
        obj=flow,
    )
    return flow


@transaction.atomic
def resume_flow(flow: Flow, *, actor: User, today: dt.date | None = None) -> Flow:
    """Make runs again from today: the periods whose dates passed while paused are skipped
    (as recurring work does), a date of today is made by the next sweep.

    Each client's next date is its first scheduled date on or after today; a client whose
    date cannot be worked out any more keeps the reason and makes no runs.
    """
    flow = _lock_repeating(flow, "resumed")
    if not flow.paused:
        return flow
    today = today or today_for(flow.practice)
    yesterday = today - relativedelta(days=1)
    cadence = Cadence.from_json(flow.cadence)
    calendar = working_calendar(flow.practice)
    flow_clients = list(FlowClient.objects.filter(flow=flow).select_related("client"))
    for fc in flow_clients:
        fc.generated_until = max(fc.generated_until or yesterday, yesterday)
        try:
            found = cadence.next_runs(1, after=today, calendar=calendar, client=fc.client)
        except ClientDateMissing as exc:
            fc.next_date, fc.skip_reason = None, str(exc)[:200]
            continue
        fc.next_date = found[0].scheduled if found else None
        fc.skip_reason = "" if found else "no date in the next years"
    FlowClient.objects.bulk_update(
        flow_clients, ["generated_until", "next_date", "skip_reason"], batch_size=1000
    )
    flow.paused = False
    flow.save(update_fields=["paused"])
    reschedule_flow(flow)
    activity.record(
        practice=flow.practice,
        verb="flow.resumed",
        summary=f"Resumed the flow {flow.name}",
        actor=actor,
        obj=flow,
    )
    return flow
