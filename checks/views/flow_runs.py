"""One flow run: its page, its slide-out focus panel, its actions and its files.

The page (`checks:flow-run`) shows the run's header (flow, client, period, due date, status,
team, progress), the one move the viewer may make now, each check as a card (its findings
for a built-in check, its outcome buttons or Undo, its comments and files) and the run's
history. The focus panel (`checks:flow-run-panel`) is a compact copy for the core's
slide-out panel (`sodium/focus.py`), opened from My work.

Every action is a POST under the run's address that calls one engine function. A refusal
(FlowError, InvalidTransition) becomes a readable message and changes nothing. htmx gets the
run body back (or the re-rendered panel when the form came from the panel, `from=panel`);
without JavaScript the action redirects back (PRG).
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from checks.flows import engine, files, making, queries
from checks.models import FlowRun, FlowRunCheck
from sodium.focus import render_focus_page
from sodium.roles import Perm, role_can
from sodium.schedules.practice import today_for
from sodium.statemachine import InvalidTransition
from sodium.tenancy import role_required
from sodium.views.common import HtmxHttpRequest
from sodium.work import Tone, WorkItem

PAGE = "checks/flows/run_detail.html"
PANEL = "checks/flows/run_panel.html"
R = FlowRun.Status
C = FlowRunCheck.Status
TONES: dict[str, Tone] = {
    R.NOT_STARTED: "muted",
    R.IN_PROGRESS: "info",
    R.IN_REVIEW: "warn",
    R.COMPLETE: "ok",
}
CHECK_TONES: dict[str, Tone] = {
    C.PENDING: "muted",
    C.NO_ISSUES: "ok",
    C.SOME_ISSUES: "warn",
    C.NOT_APPLICABLE: "info",
}
STEP_WORDS = {
    R.IN_PROGRESS: "Started",
    R.IN_REVIEW: "Submitted for review",
    "approved": "Approved",
    "handed_back": "Handed back",
    R.COMPLETE: "Completed",
}
WORK_LIMIT = 200
WORK_WORDS = {R.NOT_STARTED: "To start", R.IN_PROGRESS: "In progress", R.IN_REVIEW: "To review"}
OUTCOMES = (
    (C.NO_ISSUES, "No issues"),
    (C.SOME_ISSUES, "Some issues"),
    (C.NOT_APPLICABLE, "Not applicable"),
)


def status_words(run: FlowRun) -> str:
    """The run's status as a person reads it: who has it in review, approved, …"""
    if run.status == R.IN_REVIEW:
        if run.approved:
            return "Approved – ready to complete"
        reviewer = run.second_reviewer if run.review_stage == 2 else run.reviewer
        return f"In review with {reviewer}" if reviewer else "In review"
    return run.get_status_display()


def _allowed(request: HtmxHttpRequest, run: FlowRun) -> dict[str, bool]:
    """Which moves the viewer may make now (the engine checks again)."""
    role = request.membership.role
    can_work = role_can(role, Perm.WORK_CHECKS)
    mine = can_work and run.assignee_id == request.user.pk
    all_done = run.checks_done >= run.checks_total
    in_progress = run.status == R.IN_PROGRESS
    return {
        "can_work": can_work,
        "start": can_work
        and run.status == R.NOT_STARTED
        and run.assignee_id is not None
        and (mine or role_can(role, Perm.MANAGE_FLOWS)),
        "work": mine and in_progress,
        "submit": mine and in_progress and run.reviewer_id is not None,
        "all_done": all_done,
        "complete": mine
        and (
            (run.status == R.IN_REVIEW and run.approved)
            or (in_progress and run.reviewer_id is None and all_done)
        ),
        "review": can_work
        and run.status == R.IN_REVIEW
        and not run.approved
        and run.current_reviewer_id == request.user.pk,
    }


def _history(page: queries.RunPage) -> list[dict[str, Any]]:
    """The snapshots (with the score) and the activity events, oldest first."""
    entries = [
        {
            "at": s.at,
            "title": STEP_WORDS.get(s.step, s.step.replace("_", " ").capitalize()),
            "who": s.actor or "System",
            "score": s.score,
            "open_findings": s.open_findings,
            "snapshot": True,
        }
        for s in page.snapshots
    ]
    entries += [
        {"at": e.created_at, "title": e.summary, "who": e.who, "snapshot": False}
        for e in page.events
    ]
    return sorted(entries, key=lambda e: (e["at"], not e["snapshot"]))


def _context(request: HtmxHttpRequest, run: FlowRun, **extra: Any) -> dict[str, Any]:
    page = queries.run_page(request.practice, run, findings=not extra.get("compact"))
    today = today_for(request.practice)
    run_url = reverse("checks:flow-run", args=[run.pk])
    for check in page.checks:
        check.tone = CHECK_TONES.get(check.status, "info")
        check.is_done = check.status != C.PENDING
    return {
        "run": run,
        "checks": page.checks,
        "run_notes": page.run_notes,
        "history": _history(page),
        "status_words": status_words(run),
        "tone": TONES.get(run.status, "info"),
        "overdue": run.status != R.COMPLETE and run.due_date < today,
        "allowed": _allowed(request, run),
        "outcomes": OUTCOMES,
        "run_url": run_url,
        "panel_url": reverse("checks:flow-run-panel", args=[run.pk]),
        "close_url": run_url,
        "findings_url": reverse("checks:finding-detail", args=[run.client_id, 0]).removesuffix(
            "0/"
        ),
        "accept": files.ACCEPT,
        **extra,
    }


@require_GET
@vary_on_headers("HX-Request")
@role_required(Perm.VIEW_PRACTICE)
def run_detail(request: HtmxHttpRequest, run_id: int) -> HttpResponse:
    """The run page; for htmx, its body alone."""
    run = queries.get_run(request.practice, run_id)
    template = PAGE
    if request.htmx and not request.htmx.history_restore_request:
        template += "#run-body"
    return render(request, template, _context(request, run))


@require_GET
@vary_on_headers("HX-Request")
@role_required(Perm.VIEW_PRACTICE)
def run_panel(request: HtmxHttpRequest, run_id: int) -> HttpResponse:
    """The run in the slide-out focus panel; a page of its own without htmx."""
    run = queries.get_run(request.practice, run_id)
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, PANEL, _context(request, run, compact=True))
    return render_focus_page(
        request,
        PANEL,
        _context(request, run, compact=True, as_page=True),
        title=f"{run.flow.name} · {run.client.name}",
        crumbs=(
            ("My work", reverse("sodium:my-work")),
            (str(run), reverse("checks:flow-run", args=[run.pk])),
        ),
    )


# --- actions -----------------------------------------------------------------------------------


def _refusal(exc: Exception) -> str:
    if isinstance(exc, making.FlowError):
        return " ".join(exc.errors.values())
    return str(exc)


def _respond(request: HtmxHttpRequest, run_id: int, *, flash: str = "", error: str = ""):
    """Answer an action: the panel or the run body for htmx, else a redirect back."""
    run = queries.get_run(request.practice, run_id)  # as the action left it
    from_panel = request.POST.get("from") == "panel"
    if request.htmx and from_panel:
        response = render(
            request, PANEL, _context(request, run, compact=True, flash=flash, error=error)
        )
        if not error:
            # My work refreshes its list on the same event as after a workflow step.
            response["HX-Trigger"] = json.dumps({"task-progress": {"run": run.pk}})
        return response
    if error:
        messages.error(request, error)
    elif flash:
        messages.success(request, flash)
    if request.htmx:
        return render(request, f"{PAGE}#run-body", _context(request, run))
    if from_panel:
        return redirect("checks:flow-run-panel", run_id=run.pk)
    return redirect("checks:flow-run", run_id=run.pk)


def _act(request: HtmxHttpRequest, run_id: int, do, done: str) -> HttpResponse:
    run = queries.get_run(request.practice, run_id)
    try:
        do(run)
    except (making.FlowError, InvalidTransition) as exc:
        return _respond(request, run_id, error=_refusal(exc))
    return _respond(request, run_id, flash=done)


@require_POST
@role_required(Perm.WORK_CHECKS)
def run_start(request: HtmxHttpRequest, run_id: int) -> HttpResponse:
    return _act(
        request,
        run_id,
        lambda run: engine.start_run(run, actor=request.user),
        "Started: the checks ran for the run's period.",
    )


@require_POST
@role_required(Perm.WORK_CHECKS)
def run_submit(request: HtmxHttpRequest, run_id: int) -> HttpResponse:
    return _act(
        request,
        run_id,
        lambda run: engine.submit_run(run, actor=request.user),
        "Submitted for review.",
    )


@require_POST
@role_required(Perm.WORK_CHECKS)
def run_approve(request: HtmxHttpRequest, run_id: int) -> HttpResponse:
    return _act(
        request, run_id, lambda run: engine.approve_run(run, actor=request.user), "Approved."
    )


@require_POST
@role_required(Perm.WORK_CHECKS)
def run_hand_back(request: HtmxHttpRequest, run_id: int) -> HttpResponse:
    comment = request.POST.get("comment", "")
    return _act(
        request,
        run_id,
        lambda run: engine.hand_back_run(run, actor=request.user, comment=comment),
        "Handed back to the assignee.",
    )


@require_POST
@role_required(Perm.WORK_CHECKS)
def run_complete(request: HtmxHttpRequest, run_id: int) -> HttpResponse:
    return _act(
        request, run_id, lambda run: engine.complete_run(run, actor=request.user), "Completed."
    )


@require_POST
@role_required(Perm.WORK_CHECKS)
def check_mark(request: HtmxHttpRequest, run_id: int, check_id: int) -> HttpResponse:
    run = queries.get_run(request.practice, run_id)
    check = queries.get_run_check(run, check_id)
    outcome = request.POST.get("outcome", "")
    try:
        check = engine.mark_check(
            check, outcome=outcome, actor=request.user, comment=request.POST.get("comment", "")
        )
    except (making.FlowError, InvalidTransition) as exc:
        return _respond(request, run_id, error=f"{check.name}: {_refusal(exc)}")
    return _respond(request, run_id, flash=f"{check.name}: {check.get_status_display()}.")


@require_POST
@role_required(Perm.WORK_CHECKS)
def check_undo(request: HtmxHttpRequest, run_id: int, check_id: int) -> HttpResponse:
    run = queries.get_run(request.practice, run_id)
    check = queries.get_run_check(run, check_id)
    try:
        engine.undo_check(check, actor=request.user)
    except (making.FlowError, InvalidTransition) as exc:
        return _respond(request, run_id, error=f"{check.name}: {_refusal(exc)}")
    return _respond(request, run_id, flash=f"{check.name}: back to do.")


@require_POST
@role_required(Perm.WORK_CHECKS)
def run_note(request: HtmxHttpRequest, run_id: int) -> HttpResponse:
    """Add a comment, a file, or both, to the run or one of its checks (`check`)."""
    run = queries.get_run(request.practice, run_id)
    check = None
    wanted = request.POST.get("check", "")
    if wanted:
        check = FlowRunCheck.objects.filter(
            practice_id=run.practice_id, run=run, pk=int(wanted) if wanted.isdigit() else 0
        ).first()
        if check is None:
            return _respond(request, run_id, error="That check is not this run's.")
    upload = request.FILES.get("file")
    body = request.POST.get("body", "")
    try:
        if upload is not None:
            engine.attach_note_file(
                run, actor=request.user, upload=upload, body=body, run_check=check
            )
            done = f"Attached {upload.name}."
        else:
            engine.add_note(run, actor=request.user, body=body, run_check=check)
            done = "Comment added."
    except making.FlowError as exc:
        return _respond(request, run_id, error=_refusal(exc))
    return _respond(request, run_id, flash=done)


@require_GET
@role_required(Perm.VIEW_PRACTICE)
def note_file(request: HtmxHttpRequest, run_id: int, note_id: int) -> HttpResponse:
    """Download a file on the run, as an attachment (never shown inline)."""
    run = queries.get_run(request.practice, run_id)
    return files.download_response(queries.get_run_note_file(run, note_id))


# --- My work -----------------------------------------------------------------------------------


def run_work_items(request: HtmxHttpRequest, user) -> list[WorkItem]:
    """The runs waiting on `user` as work items, opening in the focus panel (one query)."""
    runs = queries.run_work_items_for(request.practice, user, WORK_LIMIT)
    base = reverse("checks:flow-run", args=[0]).removesuffix("0/")
    items = []
    for run in runs:
        words = WORK_WORDS.get(run.status, run.get_status_display())
        if run.status == R.IN_REVIEW and run.approved:
            words = "Approved – complete it"
        items.append(
            WorkItem(
                title=run.flow.name,
                kind="Flow run",
                subtitle=f"{run.client.name} · {run.period_start:%-d %b} – "
                f"{run.period_end:%-d %b %Y} · {run.checks_done} of {run.checks_total} checks",
                url=f"{base}{run.pk}/",
                focus_url=f"{base}{run.pk}/panel/",
                due=run.due_date,
                status=words,
                tone=TONES.get(run.status, "info"),
            )
        )
    return items
