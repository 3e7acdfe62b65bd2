"""What the flow creator shows: the dates a cadence stage works out, and the Review & Go page.

`dates_preview` gives the next runs of a repeating cadence (for a sample of the chosen
clients, or the generic dates); `review_sections` words the whole draft for the review.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from dateutil.relativedelta import relativedelta

from checks.flows.cadence import (
    ClientDateMissing,
    Event,
    Mode,
)
from checks.flows.creator import (
    NEXT_RUNS,
    SAMPLE_CLIENTS,
    CreatorContext,
    build_spec,
    cadence_of,
    chosen_client_ids,
)
from checks.flows.making import BUILTIN
from checks.models import Flow

# --- dates --------------------------------------------------------------------------------------


@dataclasses.dataclass
class DateRow:
    label: str  # a client's name, or "" for the generic dates
    runs: list  # RunDates
    problem: str = ""


@dataclasses.dataclass
class DatesPreview:
    rows: list[DateRow]
    note: str = ""


def dates_preview(draft: dict, ctx: CreatorContext, values: dict[str, Any]) -> DatesPreview:
    """Return the next runs of a repeating cadence: for a sample of the chosen clients when
    there are some, else the generic dates of a calendar schedule."""
    cadence = cadence_of(values)
    if cadence is None or cadence.errors():
        return DatesPreview([], "Correct the cadence to see its dates.")
    fixed = cadence.starting_after(ctx.today)
    after = ctx.today + relativedelta(days=1)
    client_ids = chosen_client_ids(draft, ctx)
    if client_ids:
        rows = []
        for pk in client_ids[:SAMPLE_CLIENTS]:
            client = ctx.clients_by_id[pk]
            try:
                runs = fixed.next_runs(NEXT_RUNS, after=after, calendar=ctx.calendar, client=client)
                rows.append(DateRow(client.name, runs))
            except ClientDateMissing as exc:
                rows.append(DateRow(client.name, [], f"No dates: {exc}."))
        more = len(client_ids) - SAMPLE_CLIENTS
        note = f"And {more} more client{'s' if more != 1 else ''}." if more > 0 else ""
        return DatesPreview(rows, note)
    if cadence.mode == Mode.EVENT:
        return DatesPreview(
            [],
            "The dates follow each client's "
            + ("year end" if cadence.event == Event.YEAR_END else "VAT stagger")
            + ": they are shown once you add clients.",
        )
    runs = fixed.next_runs(NEXT_RUNS, after=after, calendar=ctx.calendar)
    return DatesPreview([DateRow("", runs)])


# --- the review -----------------------------------------------------------------------------


@dataclasses.dataclass
class Section:
    title: str
    stage: str
    lines: list[str]
    table: list[list[str]] | None = None
    table_head: list[str] | None = None


def _person(ctx: CreatorContext, pk: int | None) -> str:
    if pk is None:
        return "—"
    for m in ctx.members:
        if m.pk == pk:
            return str(m)
    return "—"


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value)) or "none"
    return str(value) if value not in ("", None) else "—"


SCHEDULED_NOTE = "A scheduled date is never today: the first run is on the next one."
REVIEW_CLIENT_ROWS = 50  # the review lists this many clients, then says how many more


def review_sections(draft: dict, ctx: CreatorContext) -> list[Section]:
    """Return the review: checks, dates, rules, clients and their team, one section each."""
    spec = build_spec(draft, ctx)
    sections = []
    template = next((t for t in ctx.templates if t.pk == spec.template_id), None)
    lines = [f"Name: {spec.name}"]
    lines.append(f"From the template {template.name}" if template else "Checks picked by hand")
    lines += [f"{i}. {ctx.check_names.get(r, r)}" for i, r in enumerate(spec.checks, start=1)]
    sections.append(Section("Checks", "checks", lines))

    client_ids = [t.client_id for t in spec.clients]
    if spec.kind == Flow.Kind.ONE_OFF:
        lines = [
            f"One-off, covering {spec.period_start:%-d %b %Y} – {spec.period_end:%-d %b %Y}",
            f"Due {spec.due_date:%-d %b %Y}",
        ]
        sections.append(Section("Dates", "cadence", lines))
    else:
        lines = [f"Repeating: {spec.cadence.words()}", SCHEDULED_NOTE]
        fixed = spec.cadence.starting_after(ctx.today)
        after = ctx.today + relativedelta(days=1)
        table = []
        for pk in client_ids[:REVIEW_CLIENT_ROWS]:
            client = ctx.clients_by_id[pk]
            try:
                found = fixed.next_runs(1, after=after, calendar=ctx.calendar, client=client)
            except ClientDateMissing as exc:
                table.append([client.name, f"no dates: {exc}", "", ""])
                continue
            if found:
                run = found[0]
                table.append(
                    [
                        client.name,
                        run.period.label,
                        f"{run.scheduled:%-d %b %Y}",
                        f"{run.due:%-d %b %Y}",
                    ]
                )
        sections.append(
            Section(
                "Dates",
                "cadence",
                lines,
                table=table,
                table_head=["Client", "First period", "Appears", "Due"],
            )
        )

    lines = []
    for key, changed in spec.rules.items():
        name = BUILTIN[key].name if key in BUILTIN else key
        lines.append(
            f"{name}: "
            + "; ".join(f"{k.replace('_', ' ')} {_shown(v)}" for k, v in changed.items())
        )
    if not lines:
        lines = ["The checks' usual rules, following each run's reporting period."]
    sections.append(Section("Rules", "rules", lines))

    n = len(client_ids)
    names = [ctx.clients_by_id[i].name for i in client_ids[:REVIEW_CLIENT_ROWS]]
    more = f" and {n - REVIEW_CLIENT_ROWS} more" if n > REVIEW_CLIENT_ROWS else ""
    sections.append(
        Section(
            "Clients", "clients", [f"{n} client{'s' if n != 1 else ''}: {', '.join(names)}{more}"]
        )
    )
    table = [
        [
            ctx.clients_by_id[t.client_id].name,
            _person(ctx, t.assignee_id),
            _person(ctx, t.reviewer_id),
            _person(ctx, t.second_reviewer_id),
        ]
        for t in spec.clients[:REVIEW_CLIENT_ROWS]
    ]
    sections.append(
        Section(
            "Team",
            "team",
            [f"And {n - REVIEW_CLIENT_ROWS} more clients."] if n > REVIEW_CLIENT_ROWS else [],
            table=table,
            table_head=["Client", "Assignee", "Reviewer", "Second reviewer"],
        )
    )
    return sections
