"""Status changes of check-based flows: working a run, and deleting one.

Every status change of a run or of one of its checks goes through `FLOW_RUN_MACHINE` /
`FLOW_RUN_CHECK_MACHINE` here, each in one transaction with the row locked: `start_run`
(needs an assignee; runs the checks for the run's period), `mark_check` / `undo_check`,
`submit_run`, `approve_run` / `hand_back_run` by the reviewers in order, `complete_run` by
the assignee; each writes a health-score snapshot, and hand-offs notify. Making flows and
their runs is `checks.flows.making`; editing flows and templates `checks.flows.editing`.
"""

from __future__ import annotations

from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from checks import runs as check_runs
from checks.flows.making import FlowError
from checks.models import (
    FLOW_RUN_CHECK_MACHINE,
    FLOW_RUN_MACHINE,
    Finding,
    FlowRun,
    FlowRunCheck,
    FlowRunNote,
    FlowRunSnapshot,
    HealthScore,
)
from sodium import activity, notifications
from sodium.models import User
from sodium.schedules.practice import today_for
from sodium.tenancy import practice_scope

R = FlowRun.Status
C = FlowRunCheck.Status


def delete_run(run: FlowRun, *, actor: User) -> None:
    """Delete a run; its repeating flow goes on making the next ones (not this one again)."""
    with transaction.atomic():
        run = FlowRun.objects.select_for_update().select_related("flow", "client").get(pk=run.pk)
        activity.record(
            practice=run.practice_id,
            verb="flow_run.deleted",
            summary=f"Deleted the run of {run.flow.name} for {run.period_start:%-d %b %Y} – "
            f"{run.period_end:%-d %b %Y}",
            actor=actor,
            client=run.client,
        )
        run.delete()


# --- working a run -----------------------------------------------------------------------------


def _lock_run(run: FlowRun) -> FlowRun:
    return (
        FlowRun.objects.select_for_update()
        .select_related("flow", "client__practice")
        .get(pk=run.pk)
    )


def _snapshot(run: FlowRun, step: str, actor: User | None) -> FlowRunSnapshot:
    latest = (
        HealthScore.objects.filter(practice_id=run.practice_id, client_id=run.client_id)
        .order_by("-recorded_at", "-pk")
        .first()
    )
    open_count = Finding.objects.filter(
        practice_id=run.practice_id, client_id=run.client_id, status=Finding.Status.OPEN
    ).count()
    return FlowRunSnapshot.objects.create(
        practice_id=run.practice_id,
        run=run,
        step=step,
        score=latest.score if latest else None,
        open_findings=open_count,
        actor=actor,
    )


def _notify(run: FlowRun, user_id: int | None, text: str) -> None:
    if user_id is None:
        return
    user = User.objects.filter(pk=user_id).first()
    notifications.notify(
        practice=run.client.practice,
        user=user,
        text=text,
        url=reverse("checks:flow-run", args=[run.pk]),
    )


def start_run(run: FlowRun, *, actor: User, today=None) -> FlowRun:
    """Start a run: run the checks as at the end of its period and move it to in progress.

    Raises FlowError when the run has no assignee, InvalidTransition unless not started.
    """
    with practice_scope(run.practice_id), transaction.atomic():
        run = _lock_run(run)
        FLOW_RUN_MACHINE.check(run, R.IN_PROGRESS)
        if run.assignee_id is None:
            raise FlowError("Choose who works this run before starting it.")
        today = today or today_for(run.client.practice)
        as_at = min(today, run.period_end + relativedelta(days=1))
        builtin_keys = set(run.run_checks.exclude(check_key="").values_list("check_key", flat=True))
        if builtin_keys:
            check_runs.run_checks(run.client, actor=actor, today=as_at, rules=run.rules)
        open_counts = dict(
            Finding.objects.filter(
                practice_id=run.practice_id,
                client_id=run.client_id,
                status=Finding.Status.OPEN,
                check_key__in=builtin_keys,
            )
            .values_list("check_key")
            .annotate(n=Count("id"))
        )
        for check in run.run_checks.exclude(check_key=""):
            check.open_findings = open_counts.get(check.check_key, 0)
            check.save(update_fields=["open_findings"])
        run.started_at = timezone.now()
        run = FLOW_RUN_MACHINE.transition(
            run, to=R.IN_PROGRESS, actor=actor, fields=["started_at"], locked=True
        )
        _snapshot(run, R.IN_PROGRESS, actor)
        return run


def _check_assignee(run: FlowRun, actor: User, doing: str) -> None:
    if run.assignee_id != actor.pk:
        raise FlowError(f"Only the run's assignee can {doing}.")


def mark_check(
    run_check: FlowRunCheck, *, outcome: str, actor: User, comment: str = ""
) -> FlowRunCheck:
    """Mark one check of an in-progress run done: no issues, some issues (a comment is
    required) or not applicable. Raises FlowError / InvalidTransition."""
    if outcome not in FlowRunCheck.DONE:
        raise FlowError({"outcome": "Choose how the check was completed."})
    comment = comment.strip()
    if outcome == C.SOME_ISSUES and not comment:
        raise FlowError({"comment": "Say what the issues are."})
    with practice_scope(run_check.practice_id), transaction.atomic():
        run = _lock_run(run_check.run)
        _check_assignee(run, actor, "work its checks")
        if run.status != R.IN_PROGRESS:
            raise FlowError("Checks can be worked only while the run is in progress.")
        run_check = FlowRunCheck.objects.select_for_update().get(pk=run_check.pk)
        run_check.run = run
        run_check.comment = comment[:4000]
        run_check.completed_by, run_check.completed_at = actor, timezone.now()
        run_check = FLOW_RUN_CHECK_MACHINE.transition(
            run_check,
            to=outcome,
            actor=actor,
            note=comment[:80],
            fields=["comment", "completed_by", "completed_at"],
            locked=True,
        )
        _count_done(run)
        return run_check


def undo_check(run_check: FlowRunCheck, *, actor: User) -> FlowRunCheck:
    """Put a done check of an in-progress run back to do."""
    with practice_scope(run_check.practice_id), transaction.atomic():
        run = _lock_run(run_check.run)
        _check_assignee(run, actor, "work its checks")
        if run.status != R.IN_PROGRESS:
            raise FlowError("Checks can be changed only while the run is in progress.")
        run_check = FlowRunCheck.objects.select_for_update().get(pk=run_check.pk)
        run_check.run = run
        run_check.completed_by, run_check.completed_at = None, None
        run_check = FLOW_RUN_CHECK_MACHINE.transition(
            run_check,
            to=C.PENDING,
            actor=actor,
            note="undone",
            fields=["completed_by", "completed_at"],
            locked=True,
        )
        _count_done(run)
        return run_check


def _count_done(run: FlowRun) -> None:
    run.checks_done = run.run_checks.exclude(status=C.PENDING).count()
    run.save(update_fields=["checks_done"])


def submit_run(run: FlowRun, *, actor: User) -> FlowRun:
    """Hand a run whose checks are all done to its first reviewer."""
    with practice_scope(run.practice_id), transaction.atomic():
        run = _lock_run(run)
        _check_assignee(run, actor, "submit it")
        FLOW_RUN_MACHINE.check(run, R.IN_REVIEW)
        if run.reviewer_id is None:
            raise FlowError("This run has no reviewer: complete it instead.")
        if run.run_checks.filter(status=C.PENDING).exists():
            raise FlowError("Finish every check before submitting the run for review.")
        run.review_stage, run.approved, run.submitted_at = 1, False, timezone.now()
        run = FLOW_RUN_MACHINE.transition(
            run,
            to=R.IN_REVIEW,
            actor=actor,
            fields=["review_stage", "approved", "submitted_at"],
            locked=True,
        )
        _snapshot(run, R.IN_REVIEW, actor)
        _notify(run, run.reviewer_id, f"{actor} sent {run} to you for review")
        return run


def _check_reviewer(run: FlowRun, actor: User) -> None:
    if run.status != R.IN_REVIEW or run.approved:
        raise FlowError("This run is not waiting for a review.")
    if run.current_reviewer_id != actor.pk:
        raise FlowError("Only the reviewer it is with can review it now.")


def approve_run(run: FlowRun, *, actor: User) -> FlowRun:
    """Approve a run as the reviewer it is with: on to the second reviewer, or approved."""
    with practice_scope(run.practice_id), transaction.atomic():
        run = _lock_run(run)
        _check_reviewer(run, actor)
        if run.review_stage == 1 and run.second_reviewer_id is not None:
            run.review_stage = 2
            text = f"{actor} approved {run}; it is with you for the second review"
            notify_id = run.second_reviewer_id
        else:
            run.approved = True
            text = f"{actor} approved {run}: you can complete it"
            notify_id = run.assignee_id
        run.save(update_fields=["review_stage", "approved"])
        activity.record(
            practice=run.practice_id,
            verb="flow_run.approved",
            summary=f"{run.flow.name}: approved by {actor}",
            actor=actor,
            client=run.client,
            obj=run,
        )
        _snapshot(run, "approved", actor)
        _notify(run, notify_id, text)
        return run


def hand_back_run(run: FlowRun, *, actor: User, comment: str) -> FlowRun:
    """Hand a run back to its assignee with a comment (required): in progress again."""
    comment = comment.strip()
    if not comment:
        raise FlowError({"comment": "Say what needs doing before it comes back."})
    with practice_scope(run.practice_id), transaction.atomic():
        run = _lock_run(run)
        _check_reviewer(run, actor)
        run.review_stage, run.approved = 0, False
        run = FLOW_RUN_MACHINE.transition(
            run,
            to=R.IN_PROGRESS,
            actor=actor,
            note=f"handed back: {comment[:80]}",
            fields=["review_stage", "approved"],
            locked=True,
        )
        FlowRunNote.objects.create(
            practice_id=run.practice_id, run=run, author=actor, body=f"Handed back: {comment}"
        )
        _snapshot(run, "handed_back", actor)
        _notify(run, run.assignee_id, f"{actor} handed {run} back to you: {comment[:120]}")
        return run


def complete_run(run: FlowRun, *, actor: User) -> FlowRun:
    """Complete a run as its assignee: approved by its reviewers, or with none and every
    check done."""
    with practice_scope(run.practice_id), transaction.atomic():
        run = _lock_run(run)
        _check_assignee(run, actor, "complete it")
        FLOW_RUN_MACHINE.check(run, R.COMPLETE)
        if run.status == R.IN_REVIEW and not run.approved:
            raise FlowError("The reviewers have not approved it yet.")
        if run.status == R.IN_PROGRESS:
            if run.reviewer_id is not None:
                raise FlowError("Submit it for review first.")
            if run.run_checks.filter(status=C.PENDING).exists():
                raise FlowError("Finish every check before completing the run.")
        run.completed_at, run.review_stage = timezone.now(), 0
        run = FLOW_RUN_MACHINE.transition(
            run, to=R.COMPLETE, actor=actor, fields=["completed_at", "review_stage"], locked=True
        )
        _snapshot(run, R.COMPLETE, actor)
        return run


def add_note(
    run: FlowRun, *, actor: User, body: str, run_check: FlowRunCheck | None = None
) -> FlowRunNote:
    """Add a comment to a run or one of its checks."""
    body = body.strip()
    if not body:
        raise FlowError({"body": "Write the comment first."})
    if run_check is not None and run_check.run_id != run.pk:
        raise FlowError("That check is not this run's.")
    note = FlowRunNote.objects.create(
        practice_id=run.practice_id, run=run, run_check=run_check, author=actor, body=body[:4000]
    )
    activity.record(
        practice=run.practice_id,
        verb="flow_run.comment",
        summary=f"{run.flow.name}: comment by {actor}",
        actor=actor,
        client=run.client,
        obj=run,
    )
    return note


# --- flow-runs: files on a run's checks --------------------------------------------------------


def attach_note_file(
    run: FlowRun,
    *,
    actor: User,
    upload,
    body: str = "",
    run_check: FlowRunCheck | None = None,
) -> FlowRunNote:
    """Store a file (with an optional comment) on a run or one of its checks.

    The file passes `checks.flows.files.check_note_file` (size, sniffed type, no markup) and
    is stored under a random name; if the row is not written the stored bytes are deleted.
    Raises FlowError saying why a file is refused.
    """
    from django.core.files.storage import default_storage

    from checks.flows import files
    from sodium.uploads import random_name

    if run_check is not None and run_check.run_id != run.pk:
        raise FlowError("That check is not this run's.")
    try:
        ext = files.check_note_file(upload)
    except files.FileRefused as exc:
        raise FlowError({"file": str(exc)}) from None
    original = (upload.name or f"file.{ext}").replace("\\", "/").rsplit("/", 1)[-1][:255]
    stored = default_storage.save(f"{files.STORAGE_DIR}/{random_name(ext)}", upload)
    try:
        with practice_scope(run.practice_id), transaction.atomic():
            note = FlowRunNote.objects.create(
                practice_id=run.practice_id,
                run=run,
                run_check=run_check,
                author=actor,
                body=body.strip()[:4000],
                file_name=original,
                stored_name=stored,
            )
            activity.record(
                practice=run.practice_id,
                verb="flow_run.file",
                summary=f"{run.flow.name}: {actor} attached {original}",
                actor=actor,
                client=run.client,
                obj=run,
            )
    except BaseException:
        default_storage.delete(stored)
        raise
    return note
