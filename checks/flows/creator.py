"""The flow creator on the core's drafts: six stages, from a draft to `making.create_flow`.

Set checks → Set cadence → Set rules → Add clients → Team → Review & Go. A draft keeps, per
stage, what was typed (`values[stage]`, raw form data); each stage's form (`creator_forms`,
moved through by `creator_stages`) is bound and cleaned once per request. `CreatorContext`
holds what the forms need from the database, read once per request. `build_spec` turns a
finished draft into a `making.FlowSpec`; `creator_review` works out the dates the cadence
stage shows and words the review. Go itself is `making.create_flow` (all runs or none).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import MutableMapping
from functools import cached_property
from typing import Any

from dateutil.relativedelta import relativedelta
from django.db.models import Count, Q

from checks.flows.cadence import (
    PERIOD_MONTHS,
    Cadence,
    Event,
    Mode,
    last_full_month,
)
from checks.flows.making import BUILTIN, ClientTeam, FlowSpec
from checks.models import CustomCheck, Flow, FlowTemplate
from sodium import drafts as core_drafts
from sodium import queries as core_queries
from sodium.models import Client, Practice, Tag, User
from sodium.schedules.practice import today_for, working_calendar

SESSION_KEY = "flow_creator"
STAGES = ["checks", "cadence", "rules", "clients", "team", "review"]
LABELS = {
    "checks": "Set checks",
    "cadence": "Set cadence",
    "rules": "Set rules",
    "clients": "Add clients",
    "team": "Team",
    "review": "Review & Go",
}
# Where a FlowError's key is fixed.
ERROR_STAGES = {
    "name": "checks",
    "checks": "checks",
    "period_start": "cadence",
    "period_end": "cadence",
    "due_date": "cadence",
    "cadence": "cadence",
    "offset": "cadence",
    "within": "cadence",
    "every": "cadence",
    "kind": "checks",
    "clients": "clients",
    "team": "team",
}
SAMPLE_CLIENTS = 3  # the cadence stage shows the next dates of this many chosen clients
NEXT_RUNS = 3


def stages(draft: dict) -> list[str]:
    return list(STAGES)


CREATOR = core_drafts.Creator(session_key=SESSION_KEY, labels=LABELS, stages=stages)


@dataclasses.dataclass(frozen=True)
class CheckOption:
    ref: str
    name: str
    description: str
    custom: bool


@dataclasses.dataclass
class CreatorContext:
    """What the stage forms read from the database, once per request."""

    practice: Practice
    today: dt.date

    @classmethod
    def of(cls, practice: Practice, today: dt.date | None = None) -> CreatorContext:
        return cls(practice=practice, today=today or today_for(practice))

    @cached_property
    def calendar(self):
        return working_calendar(self.practice)

    @cached_property
    def customs(self) -> list[CustomCheck]:
        return list(
            CustomCheck.objects.filter(practice=self.practice, archived=False).order_by("name")
        )

    @cached_property
    def check_options(self) -> list[CheckOption]:
        """The nine built-in checks, then the practice's custom ones."""
        out = [
            CheckOption(f"builtin:{c.key}", c.name, c.description, False) for c in BUILTIN.values()
        ]
        out += [CheckOption(f"custom:{c.pk}", c.name, c.description, True) for c in self.customs]
        return out

    @cached_property
    def check_names(self) -> dict[str, str]:
        return {o.ref: o.name for o in self.check_options}

    @cached_property
    def templates(self) -> list[FlowTemplate]:
        """The built-in copies and the practice's own templates (not archived), with their
        checks."""
        return list(
            FlowTemplate.objects.filter(practice=self.practice, archived=False)
            .prefetch_related("checks")
            .order_by("name")
        )

    def template_refs(self, template: FlowTemplate) -> list[str]:
        """The template's checks that may still be chosen, in order."""
        return [c.ref for c in template.checks.all() if c.ref in self.check_names]

    @cached_property
    def members(self) -> list[User]:
        return list(core_queries.members_of(self.practice).only("pk", "full_name", "email"))

    @cached_property
    def clients(self) -> list[Client]:
        return list(
            Client.objects.filter(practice=self.practice, status=Client.Status.ACTIVE)
            .only(
                "pk",
                "name",
                "reference",
                "year_end_day",
                "year_end_month",
                "vat_periods",
                "default_assignee_id",
                "default_reviewer_id",
                "practice_id",
            )
            .order_by("name", "pk")
        )

    @cached_property
    def clients_by_id(self) -> dict[int, Client]:
        return {c.pk: c for c in self.clients}

    @cached_property
    def tags(self) -> list[Tag]:
        active = Q(clients__status=Client.Status.ACTIVE)
        return list(
            Tag.objects.filter(practice=self.practice)
            .annotate(active_clients=Count("clients", filter=active))
            .order_by("name")
        )

    def clients_of_tags(self, tag_ids: list[int]) -> set[int]:
        """The ids of the active clients carrying any of the tags."""
        if not tag_ids:
            return set()
        return set(
            Client.objects.filter(
                practice=self.practice, status=Client.Status.ACTIVE, tags__in=tag_ids
            ).values_list("pk", flat=True)
        )


# --- drafts in the session --------------------------------------------------------------------


def start_draft(
    session: MutableMapping,
    *,
    practice_id: int,
    kind: str,
    template: FlowTemplate | None = None,
    refs: list[str] | None = None,
) -> dict:
    """Start a draft of a one-off or repeating flow (from a template, if given); return it."""
    if kind not in Flow.Kind.values:
        raise ValueError(f"Unknown kind of flow {kind!r}")
    values: dict[str, dict[str, Any]] = {}
    if template is not None:
        values["checks"] = {
            "name": template.name,
            "template": str(template.pk),
            "checks": list(refs or []),
        }
    return CREATOR.start(session, practice_id=practice_id, values=values, stage="checks", kind=kind)


def kind(draft: dict) -> str:
    return draft["kind"]


def is_repeating(draft: dict) -> bool:
    return kind(draft) == Flow.Kind.REPEATING


# --- what the stages hold ---------------------------------------------------------------------


def chosen_refs(draft: dict) -> list[str]:
    return list(draft["values"].get("checks", {}).get("checks") or [])


def chosen_builtin_keys(draft: dict) -> list[str]:
    return [r.split(":", 1)[1] for r in chosen_refs(draft) if r.startswith("builtin:")]


def _int(value: Any, default: int | None = None) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return default


def _date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value))
    except (TypeError, ValueError):
        return None


def one_off_defaults(today: dt.date) -> dict[str, str]:
    """The one-off cadence stage's defaults: the last full month, due in two weeks."""
    period = last_full_month(today)
    return {
        "period_start": period.start.isoformat(),
        "period_end": period.end.isoformat(),
        "due_date": (today + relativedelta(weeks=2)).isoformat(),
    }


REPEATING_DEFAULTS = {
    "mode": "scheduled",
    "period": "month",
    "every": "1",
    "event": "year_end",
    "offset": "1",
    "offset_unit": "days",
    "within": "2",
    "within_unit": "weeks",
    "rule": "none",
}


def cadence_of(values: dict[str, Any]) -> Cadence | None:
    """Return the repeating cadence the stage values describe, or None when they cannot be
    read (the form says why)."""
    data = {**REPEATING_DEFAULTS, **(values or {})}
    try:
        return Cadence(
            mode=data["mode"],
            period=data["period"],
            every=_int(data["every"], 0),
            event=data["event"],
            offset=_int(data["offset"], -1),
            offset_unit=data["offset_unit"],
            within=_int(data["within"], 0),
            within_unit=data["within_unit"],
            rule=data["rule"],
        )
    except ValueError:
        return None


def sample_period(draft: dict, ctx: CreatorContext) -> tuple[dt.date, dt.date]:
    """Return a reporting period like the flow's: the one-off's own, or one of the
    repeating cadence's length ending last month."""
    values = draft["values"].get("cadence") or {}
    if not is_repeating(draft):
        defaults = one_off_defaults(ctx.today)
        start = _date(values.get("period_start")) or _date(defaults["period_start"])
        end = _date(values.get("period_end")) or _date(defaults["period_end"])
        return (start, end) if start <= end else (end, start)
    cadence = cadence_of(values) or Cadence()
    if cadence.mode == Mode.EVENT:
        months = 12 if cadence.event == Event.YEAR_END else 3
    else:
        months = PERIOD_MONTHS[cadence.period]
    end = last_full_month(ctx.today).end
    start = end + relativedelta(months=-months + 1, day=1)
    return start, end


def chosen_client_ids(draft: dict, ctx: CreatorContext) -> list[int]:
    """The active clients chosen by client or by tag, each once, by name."""
    values = draft["values"].get("clients") or {}
    picked = {_int(v) for v in values.get("clients") or []}
    tags = [t for t in (_int(v) for v in values.get("tags") or []) if t is not None]
    picked |= ctx.clients_of_tags(tags)
    return [c.pk for c in ctx.clients if c.pk in picked]


def team_of(draft: dict, ctx: CreatorContext, client_ids: list[int]) -> list[ClientTeam]:
    """Each client's team as the team stage holds it, defaulting to the client's account
    assignee and reviewer."""
    values = draft["values"].get("team") or {}
    teams = []
    for pk in client_ids:
        client = ctx.clients_by_id[pk]
        if f"a_{pk}" in values:
            people = [_int(values.get(f"{p}_{pk}")) for p in ("a", "r", "s")]
        else:
            people = [client.default_assignee_id, client.default_reviewer_id, None]
        teams.append(ClientTeam(pk, *people))
    return teams


def missing_dates(draft: dict, ctx: CreatorContext, client_ids: list[int]) -> dict[int, str]:
    """The chosen clients a repeating flow cannot date ({id: "no year end"})."""
    if not is_repeating(draft):
        return {}
    cadence = cadence_of(draft["values"].get("cadence") or {})
    if cadence is None or cadence.errors() or cadence.mode != Mode.EVENT:
        return {}
    from checks.flows.making import first_runs

    _firsts, missing = first_runs(
        ctx.practice, cadence, [ctx.clients_by_id[i] for i in client_ids], ctx.today
    )
    return missing


def rules_of(draft: dict) -> dict[str, dict]:
    """The rules the rules stage changed, for the checks still chosen."""
    keys = set(chosen_builtin_keys(draft))
    return {k: v for k, v in (draft.get("rules_store") or {}).items() if k in keys}


def build_spec(draft: dict, ctx: CreatorContext) -> FlowSpec:
    """Return the engine's spec of the draft (the engine checks it all again)."""
    checks = draft["values"].get("checks") or {}
    cadence = draft["values"].get("cadence") or {}
    client_ids = chosen_client_ids(draft, ctx)
    template_id = _int(checks.get("template"))
    if template_id not in {t.pk for t in ctx.templates}:
        template_id = None
    common = {
        "kind": kind(draft),
        "name": (checks.get("name") or "").strip(),
        "checks": tuple(chosen_refs(draft)),
        "clients": tuple(team_of(draft, ctx, client_ids)),
        "template_id": template_id,
        "rules": rules_of(draft),
    }
    if is_repeating(draft):
        return FlowSpec(**common, cadence=cadence_of(cadence))
    return FlowSpec(
        **common,
        period_start=_date(cadence.get("period_start")),
        period_end=_date(cadence.get("period_end")),
        due_date=_date(cadence.get("due_date")),
    )
