"""What bench/chaos.py does while the stack runs: the work flowing, the faults, the count."""

from __future__ import annotations

import collections
import datetime as dt
import re
import sys
import threading
import time
from pathlib import Path

from _chaos_world import PASSWORD, Plan, Releases

ENGINE_CHAINS_PER_S = 6
KILL_WAVE = {"confirms": 60, "ar": 250, "recurrences": 3}
HOUR_WAVE = {"confirms": 150, "ar": 400, "recurrences": 10}
PROBE = 10  # completions after a server came back whose emails time its recovery


def _utc(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


class Ledger:
    """What the outbox and the email files say about the emails owed."""

    def __init__(self, plan: Plan, releases: Releases, mail: Path) -> None:
        self.plan, self.releases, self.mail = plan, releases, mail
        self.problems: list[str] = []

    def rows(self, subjects: list[str]) -> dict[str, list[tuple[str, dt.datetime | None]]]:
        """Return subject → [(status, sent_at)] of the outbox, retried while the database is
        down."""
        from django.db import connection
        from django_scopes import scopes_disabled

        from sodium.models import OutboundMessage

        while True:
            try:
                with scopes_disabled():
                    found = OutboundMessage.objects.filter(
                        practice_id=self.plan.practice_id, subject__in=subjects
                    ).values_list("subject", "status", "sent_at")
                    out = collections.defaultdict(list)
                    for subject, status, sent_at in found:
                        out[subject].append((status, sent_at))
                    return out
            except Exception:  # noqa: BLE001 - the database is restarting
                connection.close()
                time.sleep(0.5)

    def all_sent_at(self, subjects: list[str]) -> dt.datetime | None:
        """When the last of `subjects` was sent, or None while one is not sent."""
        rows = self.rows(subjects)
        last = None
        for subject in subjects:
            sent = [at for status, at in rows.get(subject, []) if status == "sent" and at]
            if not sent:
                return None
            last = max(last or sent[0], min(sent))
        return last

    def last_queued_at(self, subjects: list[str]) -> dt.datetime | None:
        """When the last of `subjects` was written to the outbox (its work dispatched)."""
        from django.db.models import Max
        from django_scopes import scopes_disabled

        from sodium.models import OutboundMessage

        with scopes_disabled():
            return OutboundMessage.objects.filter(
                practice_id=self.plan.practice_id, subject__in=subjects
            ).aggregate(at=Max("created_at"))["at"]

    def wait_sent(self, subjects: list[str], timeout: float) -> dt.datetime | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            at = self.all_sent_at(subjects)
            if at is not None:
                return at
            time.sleep(0.5)
        return None

    def chains_done(self) -> list[str]:
        from django_scopes import scopes_disabled

        from workflows.models import Step

        subject = dict(self.plan.chains)
        with scopes_disabled():
            done = Step.objects.filter(pk__in=list(subject), status="done")
            return [subject[pk] for pk in done.values_list("pk", flat=True)]

    def files(self) -> collections.Counter[str]:
        subjects: collections.Counter[str] = collections.Counter()
        for path in self.mail.glob("*.log"):
            subjects.update(
                re.findall(r"^Subject: (.+)$", path.read_text(errors="replace"), re.MULTILINE)
            )
        return subjects

    def final_check(self, deadline: float, settle_s: float) -> dict:
        """Wait (until `deadline`, a monotonic time) for every owed email; count them."""
        expected = self.releases.expected + self.chains_done()
        while time.monotonic() < deadline and self.all_sent_at(expected) is None:
            time.sleep(1)
        time.sleep(settle_s)  # a duplicate, if there is one, lands now
        rows, files = self.rows(expected), self.files()
        lost = duplicated = 0
        for subject in expected:
            statuses = [status for status, _ in rows.get(subject, [])]
            if "sent" not in statuses or files[subject] == 0:
                lost += 1
                self.problems.append(f"lost: {subject} outbox {statuses} files {files[subject]}")
            elif len(statuses) > 1 or files[subject] > 1:
                duplicated += 1
                self.problems.append(f"twice: {subject} outbox {statuses} files {files[subject]}")
        unexpected = sum(n for s, n in files.items() if s not in set(expected))
        return {
            "chaos_expected": (len(expected), "emails"),
            "chaos_sent": (len(expected) - lost, "emails"),
            "chaos_lost": (lost, "emails"),
            "chaos_duplicated": (duplicated, "emails"),
            "chaos_unexpected": (unexpected, "emails"),
            "chaos_requeued_after_sending": (self._events("requeued"), "messages"),
        }

    def _events(self, event: str) -> int:
        from django_scopes import scopes_disabled

        from sodium.models import MessageEvent

        with scopes_disabled():
            return MessageEvent.objects.filter(
                practice_id=self.plan.practice_id, event=event
            ).count()


class Flow:
    """Manual steps completed all along (in the bench through the engine, and over HTTP), and
    small waves of timer work made due every few seconds, until `stop`."""

    def __init__(self, plan: Plan, releases: Releases, base: str) -> None:
        self.plan, self.releases, self.base = plan, releases, base
        self.chains = collections.deque(pk for pk, _ in plan.chains)
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.completed: list[tuple[float, int, str]] = []  # (time, manual step, via)
        self.http_errors: collections.Counter[str] = collections.Counter()
        self.http_error_times: list[float] = []
        self.threads = [threading.Thread(target=self._engine, daemon=True)]
        self.threads += [
            threading.Thread(target=self._http, args=(email,), daemon=True) for email in plan.users
        ]
        self.threads.append(threading.Thread(target=self._waves, daemon=True))

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def stop(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=60)
        from django.db import connections

        connections.close_all()

    def _next(self) -> int | None:
        with self.lock:
            return self.chains.popleft() if self.chains else None

    def _done(self, pk: int, via: str) -> None:
        with self.lock:
            self.completed.append((time.time(), pk, via))

    def _engine(self) -> None:
        from django.db import connection

        from sodium.models import User
        from sodium.tenancy import practice_scope
        from workflows import engine
        from workflows.models import Step

        actor = User.objects.get(pk=self.plan.actor_id)
        while not self.stopping.is_set():
            pk = self._next()
            if pk is None:
                return
            try:
                with practice_scope(self.plan.practice_id):
                    engine.complete_step(Step.objects.get(pk=pk), actor=actor)
                self._done(pk, "engine")
            except Exception as exc:  # noqa: BLE001 - a server is down; the end counts what committed
                print(f"# engine completion failed: {type(exc).__name__}", file=sys.stderr)
                connection.close()
                time.sleep(0.5)
            time.sleep(1 / ENGINE_CHAINS_PER_S)

    def _http(self, email: str) -> None:
        import requests

        session = None
        while not self.stopping.is_set():
            try:
                if session is None:
                    session = requests.Session()
                    session.get(f"{self.base}/sign-in/", timeout=30)
                    session.post(
                        f"{self.base}/sign-in/",
                        data={
                            "username": email,
                            "password": PASSWORD,
                            "csrfmiddlewaretoken": session.cookies.get("csrftoken", ""),
                        },
                        timeout=30,
                    ).raise_for_status()
                pk = self._next()
                if pk is None:
                    return
                headers = {"HX-Request": "true", "X-CSRFToken": session.cookies.get("csrftoken")}
                answer = session.post(
                    f"{self.base}/workflows/steps/{pk}/complete/", headers=headers, timeout=30
                )
                if answer.status_code == 200 and "Marked" in answer.text:
                    self._done(pk, "http")
                else:
                    self._error(f"{answer.status_code}")
            except Exception as exc:  # noqa: BLE001 - refused while gunicorn's database is down
                self._error(type(exc).__name__)
                session = None
                time.sleep(0.5)
            time.sleep(0.3)

    def _error(self, what: str) -> None:
        with self.lock:
            self.http_errors[what] += 1
            self.http_error_times.append(time.time())

    def errors_between(self, start: float, end: float) -> int:
        with self.lock:
            return sum(1 for t in self.http_error_times if start <= t <= end)

    def _waves(self) -> None:
        tick = 0
        while not self.stopping.wait(4):
            tick += 1
            self.releases.release(confirms=3, ar=6, recurrences=1 if tick % 4 == 0 else 0)

    def first_after(self, moment: float, n: int) -> list[int]:
        with self.lock:
            after = sorted(c for c in self.completed if c[0] >= moment)
        by_via: dict[str, list[int]] = collections.defaultdict(list)
        for _, pk, via in after:
            if len(by_via[via]) < n:
                by_via[via].append(pk)
        return [pk for pks in by_via.values() for pk in pks]


def run_faults(plan: Plan, releases: Releases, ledger: Ledger, flow: Flow, stack, sweep_s: float):
    """Run the faults one after another while the work flows; return the figures and the
    monotonic time until which the final count may wait."""
    from collections_ar.running import REDISPATCH_AFTER
    from sodium.outbox import sending_timeout

    pg, redis, apps = stack
    figures: dict[str, tuple[float, str]] = {}
    late: list[tuple[str, list[str], float]] = []  # (figure, subjects, since) timed at the end
    flow.start()
    time.sleep(15)
    for n, name in ((1, "worker1"), (2, "worker2")):
        wave = releases.release(**KILL_WAVE)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            rows = ledger.rows(wave)
            sent = sum(1 for s in wave if any(st == "sent" for st, _ in rows.get(s, [])))
            if sent >= 0.15 * len(wave):
                break
            time.sleep(0.2)
        killed_at = time.time()
        apps[name].kill()
        print(f"# kill {n}: {name} killed with {sent} of {len(wave)} sent", file=sys.stderr)
        figures[f"chaos_kill_{n}_replacement_ready_s"] = (apps[name].start(), "s")
        time.sleep(10)
        left = _sending_before(plan, killed_at)
        figures[f"chaos_kill_{n}_sending_left"] = (left, "messages")
        late.append((f"chaos_kill_{n}_recovered_s", wave, killed_at))
        time.sleep(10)
    kills_done = time.monotonic()

    apps["beat"].stop()
    hour = releases.release(**HOUR_WAVE, spread_s=3600)
    time.sleep(5)
    restarted = time.time()
    apps["beat"].start()
    at = ledger.wait_sent(hour, timeout=240)
    figures["chaos_catch_up_s"] = ((at.timestamp() - restarted) if at else float("nan"), "s")
    figures["chaos_hour_wave"] = (len(hour), "emails")
    queued = ledger.last_queued_at(hour)
    value = (queued.timestamp() - restarted) if queued else float("nan")
    figures["chaos_catch_up_queued_s"] = (value, "s")
    for kind in ("Chase", "AR", "Recurring"):
        part = ledger.all_sent_at([s for s in hour if s.startswith(kind + " ")])
        value = (part.timestamp() - restarted) if part else float("nan")
        figures[f"chaos_catch_up_{kind.lower()}_s"] = (value, "s")

    for name, restart in (("redis", _restart_redis(redis)), ("postgres", pg.restart)):
        down = time.time()
        restart()
        back = time.time()
        figures[f"chaos_{name}_down_s"] = (back - down, "s")
        time.sleep(25)
        figures[f"chaos_{name}_http_errors"] = (flow.errors_between(down, back + 5), "requests")
        probe = set(flow.first_after(back, PROBE))
        subjects = [s for pk, s in plan.chains if pk in probe]
        late.append((f"chaos_{name}_recovered_s", subjects, back))
    time.sleep(5)
    flow.stop()
    # Work a killed worker held waits for the safety nets: a message left sending for the
    # hard time limit and a margin, an AR batch for REDISPATCH_AFTER; a sweep or two more.
    longest = max(sending_timeout(), REDISPATCH_AFTER).total_seconds()
    drain_until = kills_done + longest + 60 + 3 * sweep_s
    for figure, subjects, since in late:
        at = ledger.wait_sent(subjects, timeout=max(drain_until - time.monotonic(), 1))
        figures[figure] = ((at.timestamp() - since) if at else float("nan"), "s")
    return figures, drain_until


def _restart_redis(redis):
    def restart() -> None:
        redis.stop()
        time.sleep(3)
        redis.start()

    return restart


def _sending_before(plan: Plan, moment: float) -> int:
    """Messages still `sending` that were claimed in the 15 s before `moment`: the killed
    worker's (a live one records a send within milliseconds; the other kill is older)."""
    from django_scopes import scopes_disabled

    from sodium.models import OutboundMessage

    with scopes_disabled():
        return OutboundMessage.objects.filter(
            practice_id=plan.practice_id,
            status="sending",
            status_changed_at__lt=_utc(moment),
            status_changed_at__gte=_utc(moment - 15),
        ).count()
