"""Running the data-health checks, and dismissing or restoring what they found.

"Run now" calls `request_check_run(client, actor=…)`: it queues a `CheckRun` (or returns the
client's run already queued or running) and enqueues `checks.tasks.run_checks_task` once
that commits. The task claims the run (queued → running, a compare-and-set: a second
delivery does nothing) and calls `run_checks` for it; the run counts its checks done as it
goes (`sodium.progress`), and ends done, or failed with a readable error and the findings as
they were. The sweep's safety net (`redispatch_stale_runs`) enqueues a run left queued over a
minute again and fails one whose worker died. Statuses move through `CHECK_RUN_MACHINE`.

`run_checks(client)` runs every built-in check the client has on, in one transaction that
holds the client's row locked (two runs of one client wait for each other); called without
a run (the demo, tests) it stores a new one, done:

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
row at a time, with an activity event each, and re-score the client's latest done run so the
score shown follows at once.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import defaultdict
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django_scopes import scopes_disabled

from checks import rules as builtin
from checks import scoring, tasks
from checks.models import (
    CHECK_RUN_MACHINE,
    FINDING_MACHINE,
    CheckRun,
    ClientCheckSetting,
    Finding,
    HealthScore,
)
from checks.rules.base import MAX_FINDINGS, FindingData, RulesError
from sodium import activity, dispatch, timers
from sodium.models import Client
from sodium.progress import ProgressWriter
from sodium.schedules.practice import today_for
from sodium.tenancy import practice_scope

logger = logging.getLogger(__name__)
S = Finding.Status
R = CheckRun.Status
ACTIVE = (R.QUEUED, R.RUNNING)
# The sweep enqueues a run left queued this long again (its on_commit publish was lost) …
REQUEUE_AFTER = dt.timedelta(minutes=1)
# … and fails one left running past the task's hard time limit: its worker died.
STALE_RUNNING = dt.timedelta(seconds=tasks.CHECK_RUN_TIME_LIMIT + 60)


class FindingError(Exception):
    """A dismissal or restore that cannot be done (a reason missing, a wrong status)."""


def _check_move(old: str, new: str) -> None:
    # The run's bulk moves follow the same table as the staff's.
    if new not in FINDING_MACHINE.allowed(old):  # pragma: no cover - the table says so
        raise FindingError(f"A finding cannot go from {old} to {new}.")


def request_check_run(client: Client, *, actor) -> CheckRun:
    """Queue a run of the checks over the client's ledger and return it ("Run now").

    Returns the client's run already queued or running instead, if there is one (a second
    click starts nothing). The worker's task (`checks.tasks.run_checks_task`) is enqueued
    once this commits; the sweep enqueues it again if that publish is lost.
    """
    with practice_scope(client.practice_id), transaction.atomic():
        # A run in progress is found without waiting for the client's lock, which it holds.
        current = _current_run(client)
        if current is not None:
            return current
        # Two requests at once: the second waits here, then finds the first one's run.
        Client.objects.select_for_update().filter(pk=client.pk).first()
        current = _current_run(client)
        if current is not None:
            return current
        run = CheckRun.objects.create(
            practice_id=client.practice_id,
            client=client,
            status=R.QUEUED,
            run_date=today_for(client.practice),
            ran_by=actor,
            checks_total=len(builtin.CHECKS),
        )
        pk, practice_id = run.pk, run.practice_id
        dispatch.enqueue_on_commit(tasks.run_checks_task, pk, practice_id)
    return run


def _current_run(client: Client) -> CheckRun | None:
    return (
        CheckRun.objects.filter(practice_id=client.practice_id, client=client, status__in=ACTIVE)
        .order_by("-pk")
        .first()
    )


def run_requested_checks(run_id: int) -> CheckRun | None:
    """Run the checks of a queued run (the task's work); return the run, done or failed.

    The run is claimed queued → running with a compare-and-set, so another delivery of the
    task finds it claimed (or finished) and does nothing. A failure rolls the run's work
    back (findings and score as they were) and stores the run failed with a readable error.
    Must run inside the run's practice scope and outside a transaction, so the progress
    written while the checks run can be seen.
    """
    run = CheckRun.objects.filter(pk=run_id).select_related("client__practice", "ran_by").first()
    if run is None or run.status != R.QUEUED:
        return run
    _check_run_move(R.QUEUED, R.RUNNING)
    now = timezone.now()
    claimed = CheckRun.objects.filter(pk=run.pk, status=R.QUEUED).update(
        status=R.RUNNING, started_at=now, checks_done=0
    )
    if not claimed:
        return run
    run.status, run.started_at, run.checks_done = R.RUNNING, now, 0
    try:
        return run_checks(run.client, actor=run.ran_by, today=run.run_date, run=run)
    except SoftTimeLimitExceeded:
        minutes = tasks.CHECK_RUN_SOFT_TIME_LIMIT // 60
        return _fail_run(
            run, f"The checks took over {minutes} minutes and were stopped; nothing was changed."
        )
    except Exception as exc:  # noqa: BLE001 - any failure leaves the findings as they were
        logger.exception("check run %s failed", run.pk)
        return _fail_run(
            run,
            "The checks stopped with an error, so nothing was changed "
            f"({str(exc) or type(exc).__name__}).",
        )


def _check_run_move(old: str, new: str) -> None:
    # The worker's claim is a compare-and-set update; it follows the machine's table.
    if new not in CHECK_RUN_MACHINE.allowed(old):  # pragma: no cover - the table says so
        raise CHECK_RUN_MACHINE.error(f"A check run cannot go from {old} to {new}.")


def _fail_run(run: CheckRun, message: str) -> CheckRun:
    with practice_scope(run.practice_id), transaction.atomic():
        run = CHECK_RUN_MACHINE.lock(run)
        if run.status not in ACTIVE:
            return run  # finished meanwhile (the sweep failed it, or it was done)
        run.error, run.finished_at = message, timezone.now()
        return CHECK_RUN_MACHINE.transition(
            run,
            to=R.FAILED,
            actor=None,
            note=message[:120],
            fields=["error", "finished_at"],
            locked=True,
        )


def redispatch_stale_runs(now: dt.datetime, limit: int = 500) -> int:
    """Enqueue runs left queued over a minute again, and fail runs left running past the
    task's time limit (their worker died); return how many (the sweep's safety net).

    Enqueueing twice is harmless: the task claims a run once.
    """
    # Cross-tenant by design: the sweep serves every practice; the task and `_fail_run`
    # open each run's own practice scope.
    with scopes_disabled():
        queued = list(
            CheckRun.objects.filter(status=R.QUEUED, started_at__lte=now - REQUEUE_AFTER)
            .order_by("started_at")
            .values_list("pk", "practice_id")[:limit]
        )
        dead = list(
            CheckRun.objects.filter(status=R.RUNNING, started_at__lte=now - STALE_RUNNING)
            .order_by("started_at")
            .values_list("pk", "practice_id")[:limit]
        )
    for pk, practice_id in queued:
        tasks.run_checks_task.delay(pk, practice_id)
    for pk, practice_id in dead:
        with practice_scope(practice_id):
            run = CheckRun.objects.filter(pk=pk).first()
        if run is not None:
            _fail_run(
                run,
                "The worker running the checks stopped, so nothing was changed. "
                "Run the checks again.",
            )
    return len(queued) + len(dead)


timers.register_safety_net("checks.stale_runs", redispatch_stale_runs)


def run_checks(
    client: Client,
    *,
    actor=None,
    today=None,
    run: CheckRun | None = None,
    rules: dict[str, dict[str, Any]] | None = None,
) -> CheckRun:
    """Run every built-in check over the client's ledger and return the stored run, done.

    `rules` ({check key: {rule: value}}) override the client's own rules for this run (a
    flow run's rules for its period).

    Without `run` a new run is stored (in-process: the demo, tests); with `run` (one the
    worker claimed, running) that run is filled, its `checks_done` written after each check
    through `sodium.progress.ProgressWriter` so the page shows progress. Writes findings,
    the run, its health score and one `checks.run` activity event in one transaction: an
    exception changes nothing and propagates.
    """
    progress = None
    if run is not None:
        progress = ProgressWriter(CheckRun, run.pk, client.practice_id, "checks_done")
    try:
        with practice_scope(client.practice_id), transaction.atomic():
            return _run_checks(client, actor, today, run, progress, rules or {})
    finally:
        if progress is not None:
            progress.close()


def _run_checks(
    client: Client,
    actor,
    today,
    run: CheckRun | None,
    progress: ProgressWriter | None,
    overrides: dict[str, dict[str, Any]],
) -> CheckRun:
    Client.objects.select_for_update().filter(pk=client.pk).first()
    if run is None:
        today = today or today_for(client.practice)
        run = CheckRun.objects.create(
            practice_id=client.practice_id,
            client=client,
            status=R.RUNNING,
            run_date=today,
            ran_by=actor,
            checks_total=len(builtin.CHECKS),
        )
    today = today or run.run_date
    settings = {
        s.check_key: s
        for s in ClientCheckSetting.objects.filter(practice_id=client.practice_id, client=client)
    }
    counts: dict[str, dict[str, Any]] = {}
    found: dict[str, list[FindingData]] = {}
    ran = []
    for done, check in enumerate(builtin.CHECKS, start=1):
        setting = settings.get(check.key)
        extra = overrides.get(check.key)
        if _run_check(check, setting, client, today, counts, found, extra):
            ran.append(check)
        if progress is not None:
            progress.write(done)
    _store(client, run, found, counts)
    open_counts = _open_counts(client)
    weights = scoring.weights(ran)
    # Locked only now: the progress above writes to this row from another connection.
    run = CHECK_RUN_MACHINE.lock(run)
    run.score = scoring.score(open_counts, weights)
    for key, tally in counts.items():
        tally["open"] = sum(open_counts.get(key, {}).values())
    run.counts = counts
    run.finished_at = timezone.now()
    run.checks_total = run.checks_done = len(builtin.CHECKS)
    # The `checks.run` event below records the run; the machine's own would repeat it.
    run = CHECK_RUN_MACHINE.transition(
        run,
        to=R.DONE,
        actor=actor,
        fields=["score", "counts", "finished_at", "checks_total", "checks_done"],
        locked=True,
        record=False,
    )
    run.health_score = HealthScore.objects.create(
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


def _run_check(check, setting, client: Client, today, counts, found, extra=None) -> bool:
    """Run one check into `counts` and `found`; return whether it ran (not skipped)."""
    if setting is not None and not setting.enabled:
        counts[check.key] = {"skipped": "switched off"}
        return False
    try:
        if setting is None and not extra:
            rules = check.default_rules()
        else:
            own = setting.rules if setting is not None else {}
            exclusions = setting.exclusions if setting is not None else {}
            rules = check.rules_class.from_settings({**own, **(extra or {})}, exclusions)
    except RulesError as exc:
        counts[check.key] = {"skipped": "rules do not validate", "errors": exc.errors}
        return False
    started = time.perf_counter()
    results = check.run(client, rules, today)
    unique = list({f.fingerprint: f for f in results}.values())
    counts[check.key] = {
        "found": min(len(unique), MAX_FINDINGS),
        "truncated": len(unique) > MAX_FINDINGS,
        "ms": round((time.perf_counter() - started) * 1000),
    }
    found[check.key] = unique[:MAX_FINDINGS]
    return True


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
        CheckRun.objects.filter(practice_id=client.practice_id, client=client, status=R.DONE)
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
