"""Locust users for bench/load.py: staff, managers and clients of one practice, with think time.

bench/load.py runs this file with `locust --headless -f bench/_load_users.py`; it is not a
benchmark of its own (the underscore keeps it out of `make bench`). Each user walks a journey a
person would, one page or click per action, thinking SODIUM_LOAD_THINK seconds (default "5,15";
"0" for none) between actions:

- staff (weight 6): sign in once, then per task: My steps; the task's focus panel (htmx
  partial); every third task the composer of its manual email step (drafted, pre-filled, never
  sent); "Mark done" on the manual step whose dependent sends an email automatically (exactly
  one message each, checked by bench/load.py); a working list (My work or the task list);
- clients (weight 3): open the emailed link of a document request (GET: a landing page that
  changes nothing), press Continue (POST with CSRF: signed in, on the request), upload a PDF;
  open the confirmation link and press its button; open the document sent for approval and
  approve it. Once every item is answered, they only open links again;
- managers (weight 1): the template list, their template, its step editor (htmx), every
  second time saving the step as it is; the step wizard: choose a type, then cancel.

CSRF tokens are read from the page, as a browser does: the form's `csrfmiddlewaretoken`, or the
`x-csrftoken` of `<body hx-headers>` for htmx posts.

Read from the environment: SODIUM_LOAD_PLAN (the world's JSON from bench/_load_world.py),
SODIUM_LOAD_OUT (written at the end: completed chains, saturation steps, staff sessions),
SODIUM_LOAD_SESSIONS (sessions of an earlier run to sign in with, optional), SODIUM_LOAD_TAKEN
(an earlier phase's out file: its tasks and items are not handed out again, optional),
SODIUM_LOAD_SPAWNED (a file made once every user has spawned, optional) and, for the
saturation phase, SODIUM_LOAD_STEPS ("users,users,…"), SODIUM_LOAD_STEP_S (seconds a step) and
SODIUM_LOAD_WARM_S (seconds at the start of a step left out of its figures).
"""

from __future__ import annotations

import itertools
import json
import math
import os
import re
import time
from collections import deque
from html.parser import HTMLParser

import gevent
from locust import HttpUser, LoadTestShape, between, constant, events, task

PLAN = json.loads(open(os.environ["SODIUM_LOAD_PLAN"]).read())
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
HTMX = {"HX-Request": "true"}
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
CSRF_HEADER = re.compile(r'"x-csrftoken": "([^"]+)"')
SATURATION_BOUND_MS = 1000.0


def _think():
    low, _, high = os.environ.get("SODIUM_LOAD_THINK", "5,15").partition(",")
    return between(float(low), float(high)) if high else constant(float(low))


# What an earlier phase took (SODIUM_LOAD_TAKEN, its out file) is not handed out again.
TAKEN = {"tasks": [], "sets": []}
if os.environ.get("SODIUM_LOAD_TAKEN"):
    TAKEN = json.loads(open(os.environ["SODIUM_LOAD_TAKEN"]).read())["taken"]
_taken_tasks, _taken_sets = set(TAKEN["tasks"]), set(TAKEN["sets"])
# Shared by every user of this process (gevent: one thread, so no locks). Two locust users on
# one staff account take different tasks from its queue, as two browser tabs would.
STAFF_WORK = {
    s["email"]: deque(t for t in s["tasks"] if t[1] not in _taken_tasks) for s in PLAN["staff"]
}
STAFF_ORDER = itertools.cycle([s["email"] for s in PLAN["staff"]])
MANAGER_ORDER = itertools.cycle(PLAN["managers"])
# Round robin over the contacts: the next set to hand out is another contact's.
CLIENT_SETS = deque(
    s
    for round_ in itertools.zip_longest(*(c["sets"] for c in PLAN["clients"]))
    for s in round_
    if s is not None and s["request"] not in _taken_sets
)
SESSIONS: dict[str, dict] = {}
if os.environ.get("SODIUM_LOAD_SESSIONS") and os.path.exists(os.environ["SODIUM_LOAD_SESSIONS"]):
    SESSIONS.update(json.loads(open(os.environ["SODIUM_LOAD_SESSIONS"]).read()))
COMPLETED: list[list[int]] = []  # [task, manual step, email step] answered "Marked … done"
SAMPLES: list[tuple[float, str, float, bool]] = []  # (when, name, ms, failed) of every request
STEPS: list[dict] = []
SPAWNED: list[float] = []  # when every user of the phase had started and signed in
STARTS = {"begun": 0, "ended": 0}  # users' begin() (picking an account, signing in)
RUN: dict = {}


class FormFields(HTMLParser):
    """The fields a browser would send for the first form whose action is `action`."""

    def __init__(self, action: str) -> None:
        super().__init__()
        self.action, self.inside, self.done, self.fields = action, False, False, []
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs) -> None:
        a = dict(attrs)
        if tag == "form":
            self.inside = not self.done and a.get("action") == self.action
        if not self.inside:
            return
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("file", "submit", "button"):
            if a.get("type") not in ("checkbox", "radio") or "checked" in a:
                self.fields.append((name, a.get("value") or ""))
        elif tag == "textarea" and name:
            self._textarea = name
            self.fields.append((name, ""))
        elif tag == "select" and name:
            self._select, self._options = name, []
        elif tag == "option" and self._select is not None:
            self._options.append((a.get("value") or "", "selected" in a))

    def handle_data(self, data) -> None:
        if self._textarea is not None:
            name, value = self.fields[-1]
            self.fields[-1] = (name, value + data)

    def handle_endtag(self, tag) -> None:
        if tag == "form":
            self.done = self.done or self.inside
            self.inside = False
        elif tag == "textarea" and self._textarea is not None:
            name, value = self.fields[-1]
            # As browsers do: the newline right after <textarea> is not part of the value.
            self.fields[-1] = (name, value[1:] if value.startswith("\n") else value)
            self._textarea = None
        elif tag == "select" and self._select is not None:
            chosen = [v for v, selected in self._options if selected] or [
                v for v, _ in self._options[:1]
            ]
            self.fields.extend((self._select, v) for v in chosen)
            self._select = None


def form_fields(html: str, action: str) -> list[tuple[str, str]]:
    parser = FormFields(action)
    parser.feed(html)
    return parser.fields


class Journey(HttpUser):
    """A user whose single task runs the next action of a journey (a generator), so the think
    time falls between two pages of one person's sequence rather than between whole visits."""

    abstract = True
    wait_time = _think()

    def on_start(self) -> None:
        STARTS["begun"] += 1
        try:
            self.begin()
        finally:
            STARTS["ended"] += 1
        self._journey = self.journey()

    def begin(self) -> None:
        """Pick who this user is (and sign in): before the first think time."""

    @task
    def next_action(self) -> None:
        for _ in range(2):  # a journey cut short at its first page starts again next time
            try:
                next(self._journey)
                return
            except StopIteration:
                self._journey = self.journey()

    def journey(self):
        raise NotImplementedError

    def get(self, url: str, name: str, **kwargs):
        return self.client.get(url, name=name, **kwargs)

    def checked(self, method: str, url: str, name: str, expect: str, **kwargs):
        """Request `url`; a failure unless it answers 200 with `expect` in its text."""
        with self.client.request(method, url, name=name, catch_response=True, **kwargs) as r:
            if r.status_code != 200:
                r.failure(f"status {r.status_code}")
            elif expect not in r.text:
                r.failure(f"no {expect!r} in the answer")
            else:
                r.success()
            return r

    def sign_in(self, email: str) -> bool:
        """Sign in with the account's saved session, else through the sign-in page."""
        if email in SESSIONS:
            self.client.cookies.update(SESSIONS[email])
            return True
        page = self.get("/sign-in/", "GET /sign-in/")
        token = CSRF_FIELD.search(page.text)
        data = {"username": email, "password": PLAN["password"]}
        data["csrfmiddlewaretoken"] = token.group(1) if token else ""
        with self.client.post(
            "/sign-in/", data=data, name="POST /sign-in/", catch_response=True
        ) as r:
            if r.status_code != 200 or "/sign-in/" in r.url:
                r.failure(f"sign-in of {email} failed ({r.status_code})")
                return False
            r.success()
        SESSIONS[email] = self.client.cookies.get_dict()
        return True

    def csrf_of(self, page) -> str:
        found = CSRF_HEADER.search(page.text) or CSRF_FIELD.search(page.text)
        return found.group(1) if found else ""


class Staff(Journey):
    weight = 6

    def begin(self) -> None:
        self.email = next(STAFF_ORDER)
        self.signed_in = self.sign_in(self.email)
        self.opened = 0

    def journey(self):
        if not self.signed_in:
            self.signed_in = self.sign_in(self.email)
            yield
            return
        page = self.get("/workflows/my-steps/", "GET /workflows/my-steps/")
        csrf = self.csrf_of(page)
        yield
        work = STAFF_WORK[self.email]
        if work:
            task_id, manual, email_step, letter = work.popleft()
            TAKEN["tasks"].append(manual)
            self.get(f"/workflows/tasks/{task_id}/focus/", "GET focus panel", headers=HTMX)
            yield
            self.opened += 1
            if self.opened % 3 == 1:
                self.checked(
                    "GET",
                    f"/workflows/steps/{letter}/compose/",
                    "GET composer",
                    "Please find enclosed",
                    headers=HTMX,
                )
                yield
            r = self.checked(
                "POST",
                f"/workflows/steps/{manual}/complete/",
                "POST mark done",
                "Marked",
                headers={**HTMX, "X-CSRFToken": csrf},
            )
            if r.ok:
                COMPLETED.append([task_id, manual, email_step])
            yield
        if self.opened % 2:
            self.get("/work/", "GET /work/")
        else:
            self.get("/tasks/", "GET /tasks/")
        yield


class Manager(Journey):
    weight = 1

    def begin(self) -> None:
        self.mine = next(MANAGER_ORDER)
        self.signed_in = self.sign_in(self.mine["email"])
        self.visits = 0

    def journey(self):
        if not self.signed_in:
            self.signed_in = self.sign_in(self.mine["email"])
            yield
            return
        template, group, step = self.mine["template"], self.mine["group"], self.mine["step"]
        self.visits += 1
        self.get("/workflows/templates/", "GET /workflows/templates/")
        yield
        page = self.get(f"/workflows/templates/{template}/", "GET template page")
        csrf = self.csrf_of(page)
        yield
        edit = f"/workflows/templates/steps/{step}/edit/"
        editor = self.get(edit, "GET step editor", headers=HTMX)
        yield
        if self.visits % 2:
            self.checked(
                "POST",
                edit,
                "POST step editor (save)",
                "Saved the step",
                data=form_fields(editor.text, edit),
                headers={**HTMX, "X-CSRFToken": csrf},
            )
            yield
        wizard = self.get(f"/workflows/groups/{group}/wizard/", "GET step wizard")
        yield
        with self.client.post(
            f"/workflows/groups/{group}/wizard/",
            data={"type": "email", "csrfmiddlewaretoken": self.csrf_of(wizard)},
            name="POST step wizard (type)",
            catch_response=True,
        ) as r:
            draft = re.search(r"/workflows/wizard/([^/]+)/name/", r.url)
            if r.status_code != 200 or draft is None:
                r.failure(f"no draft ({r.status_code} {r.url})")
                return
            r.success()
        yield
        self.checked(
            "POST",
            f"/workflows/wizard/{draft.group(1)}/cancel/",
            "POST step wizard (cancel)",
            "Year end",
            data={"csrfmiddlewaretoken": self.csrf_of(r)},
        )
        yield


class ClientContact(Journey):
    weight = 3

    def begin(self) -> None:
        self.items: dict | None = None

    def journey(self):
        fresh = bool(CLIENT_SETS)
        if fresh:
            self.items = CLIENT_SETS.popleft()
            TAKEN["sets"].append(self.items["request"])
        if self.items is None:  # nothing was ever sent to this client
            self.get("/portal/", "GET portal home")
            yield
            return
        items = self.items
        link, item = f"/portal/link/{items['request_link']}/", f"/portal/items/{items['request']}/"
        with self.client.get(link, name="GET portal link", catch_response=True) as page:
            # Already signed in as this contact, the link goes straight to the item.
            if page.status_code == 200 and ("Continue" in page.text or item in page.url):
                page.success()
            else:
                page.failure(f"no landing page ({page.status_code} {page.url})")
                return
        yield
        if not fresh:  # everything answered: people open their links again
            return
        if item not in page.url:
            with self.client.post(
                link,
                data={"csrfmiddlewaretoken": self.csrf_of(page)},
                name="POST portal link (sign in)",
                catch_response=True,
            ) as page:
                if page.status_code != 200 or item not in page.url:
                    page.failure(f"not signed in ({page.status_code} {page.url})")
                    return
                page.success()
            yield
        self.checked(
            "POST",
            f"/portal/items/{items['request']}/submit/",
            "POST upload",
            "reviewing",
            data={"csrfmiddlewaretoken": self.csrf_of(page), "message": "Here you go"},
            files={"files": ("statements.pdf", PDF, "application/pdf")},
        )
        yield
        confirm = f"/portal/confirm/{items['confirm_link']}/"
        page = self.checked("GET", confirm, "GET confirmation link", "Yes, file them")
        yield
        self.checked(
            "POST",
            confirm,
            "POST confirmation",
            "we will file them this week",
            data={"csrfmiddlewaretoken": self.csrf_of(page)},
        )
        yield
        item = f"/portal/items/{items['approval']}/"
        page = self.checked("GET", item, "GET approval", "Approve Draft accounts")
        yield
        fields = dict(form_fields(page.text, f"/portal/items/{items['approval']}/respond/"))
        self.checked(
            "POST",
            f"/portal/items/{items['approval']}/respond/",
            "POST approve",
            "You approved it",
            data=fields,
        )
        yield


# --- the saturation phase: users raised step by step, no think time ---------------------------


@events.request.add_listener
def _sample(name, response_time, exception, **kwargs) -> None:
    SAMPLES.append((time.monotonic(), name, response_time, exception is not None))


@events.init.add_listener
def _keep(environment, **kwargs) -> None:
    RUN["environment"] = environment


@events.spawning_complete.add_listener
def _spawned(user_count, **kwargs) -> None:
    if not STEP_USERS:
        gevent.spawn(_settled, user_count)


def _settled(user_count: int) -> None:
    """Once every user has started and signed in, reset the stats (SODIUM_LOAD_RESET) and tell
    bench/load.py (SODIUM_LOAD_SPAWNED), which reads its CPU meters then: the figures are of
    the steady load, the sign-ins' PBKDF2 reported apart."""
    while STARTS["begun"] < user_count or STARTS["ended"] < STARTS["begun"]:
        gevent.sleep(0.1)
    if os.environ.get("SODIUM_LOAD_RESET"):
        RUN["environment"].runner.stats.reset_all()
    SPAWNED.append(time.monotonic())
    if os.environ.get("SODIUM_LOAD_SPAWNED"):
        open(os.environ["SODIUM_LOAD_SPAWNED"], "w").close()


def _step_figures(start: float, end: float) -> tuple[int, float, float, int]:
    """Requests, p95 (ms), requests per second and failures between `start` and `end`."""
    times = sorted(ms for when, _, ms, _ in SAMPLES if start <= when < end)
    failed = sum(1 for when, _, _, bad in SAMPLES if bad and start <= when < end)
    if not times:
        return 0, math.inf, 0.0, failed
    p95 = times[min(len(times) - 1, math.ceil(0.95 * len(times)) - 1)]
    return len(times), p95, len(times) / (end - start), failed


STEP_USERS = [int(n) for n in os.environ.get("SODIUM_LOAD_STEPS", "").split(",") if n]
if STEP_USERS:

    class StepShape(LoadTestShape):
        """Hold each user count in SODIUM_LOAD_STEPS for a step; stop after the first step
        whose p95 is over a second (its figures, and the steps before, are in STEPS)."""

        step_s = float(os.environ.get("SODIUM_LOAD_STEP_S", "20"))
        warm_s = float(os.environ.get("SODIUM_LOAD_WARM_S", "5"))

        def __init__(self) -> None:
            super().__init__()
            self.index, self.began = -1, 0.0

        def tick(self):
            now = time.monotonic()
            index = int(self.get_run_time() // self.step_s)
            if index != self.index:
                if self.index >= 0:
                    self._close_step(now)
                    if STEPS[-1]["p95_ms"] > SATURATION_BOUND_MS:
                        return None
                if index >= len(STEP_USERS):
                    return None
                self.index, self.began = index, now
            return STEP_USERS[self.index], max(STEP_USERS[self.index], 20)

        def _close_step(self, now: float) -> None:
            count, p95, rps, failed = _step_figures(self.began + self.warm_s, now)
            STEPS.append(
                {
                    "users": STEP_USERS[self.index],
                    "requests": count,
                    "rps": rps,
                    "p95_ms": p95,
                    "failures": failed,
                }
            )


@events.quitting.add_listener
def _write_out(environment, **kwargs) -> None:
    with open(os.environ["SODIUM_LOAD_OUT"], "w") as out:
        json.dump(
            {
                "completed": COMPLETED,
                "steps": STEPS,
                "sessions": SESSIONS,
                "taken": TAKEN,
                "samples": SAMPLES,
                "spawned": SPAWNED[:1],
            },
            out,
        )
