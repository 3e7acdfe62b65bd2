"""Running the data-health checks, and dismissing or restoring what they found.

`run_checks(client)` runs every built-in check the client has on, in one transaction that
holds the client's row locked (two runs of one client wait for each other):

1. each check reports its findings (`checks.rules`), with the client's rule overrides and
   exclusions (`ClientCheckSetting`); rules that no longer validate skip that check;
2. findings are matched on (check, fingerprint): new ones are created open, known ones are
   updated (title, severity, rows) and stamped with this run; a resolved one found again is
   reopened; a dismissed one stays dismissed;
3. an open finding this run did not find is resolved — except for a check whose findings were
   cut off at `MAX_FINDINGS` (it may simply not have been reported);
4. the score is computed from the open findings (`checks.scoring`) and stored on the run and
   as a `HealthScore`; one activity event records the run.

Moves made by a run are compare-and-set updates (`filter(status=old).update(...)`) checked
against `FINDING_MACHINE`'s table, so a run costs a fixed number of queries per check however
much it finds. Staff moves (`dismiss_finding`, `restore_finding`) go through the machine one
row at a time, with an activity event each, and re-score the client's latest run so the score
shown follows at once.
"""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from checks import rules as builtin
from checks import scoring
from checks.models import FINDING_MACHINE, CheckRun, ClientCheckSetting, Finding, HealthScore
from checks.rules.base import MAX_FINDINGS, FindingData, RulesError
from sodium import activity
from sodium.models import Client
from sodium.schedules.practice import today_for
from sodium.tenancy import practice_scope

S = Finding.Status


class FindingError(Exception):
    """A dismissal or restore that cannot be done (a reason missing, a wrong status)."""


def _check_move(old: str, new: str) -> None:
    # The run's bulk moves follow the same table as the staff's.
    if new not in FINDING_MACHINE.allowed(old):  # pragma: no cover - the table says so
        raise FindingError(f"A finding cannot go from {old} to {new}.")


def run_checks(client: Client, *, actor=None, today=None) -> CheckRun:
    """Run every built-in check over the client's ledger and return the stored run.

    Writes findings, the run, its health score and one `checks.run` activity event.
    """
    with practice_scope(client.practice_id), transaction.atomic():
        Client.objects.select_for_update().filter(pk=client.pk).first()
        today = today or today_for(client.practice)
        run = CheckRun.objects.create(
            practice_id=client.practice_id, client=client, run_date=today, ran_by=actor
        )
        settings = {
            s.check_key: s
            for s in ClientCheckSetting.objects.filter(
                practice_id=client.practice_id, client=client
            )
        }
        counts: dict[str, dict[str, Any]] = {}
        found: dict[str, list[FindingData]] = {}
        ran = []
        for check in builtin.CHECKS:
            setting = settings.get(check.key)
            if setting is not None and not setting.enabled:
                counts[check.key] = {"skipped": "switched off"}
                continue
            try:
                rules = (
                    check.rules_class.from_settings(setting.rules, setting.exclusions)
                    if setting is not None
                    else check.default_rules()
                )
            except RulesError as exc:
                counts[check.key] = {"skipped": "rules do not validate", "errors": exc.errors}
                continue
            started = time.perf_counter()
            results = check.run(client, rules, today)
            unique = list({f.fingerprint: f for f in results}.values())
            counts[check.key] = {
                "found": min(len(unique), MAX_FINDINGS),
                "truncated": len(unique) > MAX_FINDINGS,
                "ms": round((time.perf_counter() - started) * 1000),
            }
            found[check.key] = unique[:MAX_FINDINGS]
            ran.append(check)
        _store(client, run, found, counts)
        open_counts = _open_counts(client)
        weights = scoring.weights(ran)
        run.score = scoring.score(open_counts, weights)
        for key, tally in counts.items():
            tally["open"] = sum(open_counts.get(key, {}).values())
        run.counts = counts
        run.finished_at = timezone.now()
        run.save(update_fields=["score", "counts", "finished_at"])
        HealthScore.objects.create(
            practice_id=client.practice_id,
            client=client,
            run=run,
            score=run.score,
            band=scoring.band(run.score),
        )
        new = sum(c.get("new", 0) for c in counts.values())
        resolved = sum(c.get("resolved", 0) for c in counts.values())
        activity.record(
            practice=client.practice_id,
            actor=actor,
            actor_label="" if actor else "System",
            verb="checks.run",
            summary=(
                f"Data-health checks: score {run.score} ({scoring.band(run.score)}), "
                f"{new} new, {resolved} resolved"
            ),
            client=client,
            obj=run,
            data={"score": run.score, "new": new, "resolved": resolved},
        )
    return run


def _store(client: Client, run: CheckRun, found: dict[str, list[FindingData]], counts) -> None:
    """Upsert the run's findings by (check, fingerprint) and resolve the ones gone."""
    mine = Finding.objects.filter(practice_id=client.practice_id, client=client)
    known = {
        (f.check_key, f.fingerprint): f
        for f in mine.filter(check_key__in=list(found)).only(
            "pk", "check_key", "fingerprint", "status", "severity", "title", "detail", "rows"
        )
    }
    now = timezone.now()
    create, update, reopen = [], [], []
    for key, findings in found.items():
        new = reopened = 0
        for data in findings:
            existing = known.get((key, data.fingerprint))
            if existing is None:
                new += 1
                create.append(
                    Finding(
                        practice_id=client.practice_id,
                        client=client,
                        check_key=key,
                        fingerprint=data.fingerprint,
                        severity=data.severity,
                        title=data.title[:300],
                        detail=data.detail,
                        rows=data.rows,
                        first_seen_run=run,
                        last_seen_run=run,
                        created_at=now,
                    )
                )
                continue
            existing.severity, existing.title = data.severity, data.title[:300]
            existing.detail, existing.rows, existing.last_seen_run = data.detail, data.rows, run
            update.append(existing)
            if existing.status == S.RESOLVED:
                reopen.append(existing.pk)
                reopened += 1
        counts[key]["new"], counts[key]["reopened"] = new, reopened
    Finding.objects.bulk_create(create, batch_size=500)
    Finding.objects.bulk_update(
        update, ["severity", "title", "detail", "rows", "last_seen_run"], batch_size=500
    )
    if reopen:
        _check_move(S.RESOLVED, S.OPEN)
        mine.filter(pk__in=reopen, status=S.RESOLVED).update(status=S.OPEN, resolved_at=None)
    _check_move(S.OPEN, S.RESOLVED)
    gone = (
        mine.filter(status=S.OPEN, check_key__in=[k for k in found if not counts[k]["truncated"]])
        .exclude(last_seen_run=run)
        .values_list("check_key")
        .annotate(n=Count("id"))
        .order_by()
    )
    gone = dict(gone)
    if gone:
        mine.filter(status=S.OPEN, check_key__in=list(gone)).exclude(last_seen_run=run).update(
            status=S.RESOLVED, resolved_at=now
        )
    for key in found:
        counts[key]["resolved"] = gone.get(key, 0)


def _open_counts(client: Client) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    rows = (
        Finding.objects.filter(practice_id=client.practice_id, client=client, status=S.OPEN)
        .values_list("check_key", "severity")
        .annotate(n=Count("id"))
        .order_by()
    )
    for key, severity, n in rows:
        counts[key][severity] = n
    return counts


def rescore(client: Client) -> CheckRun | None:
    """Re-score the client's latest run from its open findings now (after a dismissal)."""
    run = (
        CheckRun.objects.filter(practice_id=client.practice_id, client=client)
        .select_related("health_score")
        .order_by("-started_at", "-id")
        .first()
    )
    if run is None:
        return None
    ran = [
        builtin.BY_KEY[key]
        for key, tally in run.counts.items()
        if key in builtin.BY_KEY and "skipped" not in tally
    ]
    run.score = scoring.score(_open_counts(client), scoring.weights(ran))
    run.save(update_fields=["score"])
    HealthScore.objects.filter(pk=run.health_score.pk).update(
        score=run.score, band=scoring.band(run.score)
    )
    return run


def dismiss_finding(finding: Finding, *, actor, reason: str) -> Finding:
    """Dismiss an open finding with a reason, and re-score the client.

    Raises FindingError without a reason, and the machine's InvalidTransition unless open.
    """
    reason = (reason or "").strip()
    if not reason:
        raise FindingError("Say why the finding is dismissed.")
    with practice_scope(finding.practice_id), transaction.atomic():
        locked = FINDING_MACHINE.lock(finding)
        locked.dismissed_by, locked.dismissed_at, locked.dismissed_reason = (
            actor,
            timezone.now(),
            reason,
        )
        locked = FINDING_MACHINE.transition(
            locked,
            to=S.DISMISSED,
            actor=actor,
            note=reason,
            locked=True,
            fields=["dismissed_by", "dismissed_at", "dismissed_reason"],
        )
        rescore(locked.client)
    return locked


def restore_finding(finding: Finding, *, actor) -> Finding:
    """Restore a dismissed finding to open, and re-score the client.

    Raises the machine's InvalidTransition unless the finding is dismissed.
    """
    with practice_scope(finding.practice_id), transaction.atomic():
        locked = FINDING_MACHINE.lock(finding)
        locked.dismissed_by, locked.dismissed_at, locked.dismissed_reason = None, None, ""
        locked = FINDING_MACHINE.transition(
            locked,
            to=S.OPEN,
            actor=actor,
            locked=True,
            fields=["dismissed_by", "dismissed_at", "dismissed_reason"],
        )
        rescore(locked.client)
    return locked
