"""The docker-compose topology as local processes, for bench/chaos.py: a private PostgreSQL
cluster and Redis server (so they can be restarted), gunicorn, Celery workers and beat, each
in its own process group (a container: kill -9 takes its main process and its children)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from _setup import ROOT

PG_BIN = Path(os.environ.get("SODIUM_CHAOS_PG_BIN", "/usr/lib/postgresql/15/bin"))


def _as_postgres(*command: str) -> list[str]:
    # initdb and postgres refuse to run as root.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return list(command)


class PostgreSQL:
    """A private cluster in `root`, trusted on 127.0.0.1:`port`."""

    def __init__(self, root: Path, port: int) -> None:
        self.data, self.port, self.log = root / "pgdata", port, root / "postgres.log"
        root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(root, "postgres")
        subprocess.run(
            _as_postgres(str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres")
            + ["--auth=trust", "-E", "UTF8", "--no-sync"],
            check=True,
            capture_output=True,
        )
        self.url = f"postgres://postgres@127.0.0.1:{port}"

    def _ctl(self, *args: str) -> None:
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1"
        subprocess.run(
            _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log))
            + ["-o", options, "-w", *args],
            check=True,
            capture_output=True,
        )

    def start(self) -> None:
        self._ctl("start")

    def restart(self) -> None:
        self._ctl("-m", "fast", "restart")

    def stop(self) -> None:
        self._ctl("-m", "fast", "stop")


class Redis:
    """redis-server on `port` with the append-only file in `root`, as docker-compose runs it."""

    def __init__(self, root: Path, port: int) -> None:
        self.root, self.port = root, port
        root.mkdir(parents=True, exist_ok=True)
        self.proc: subprocess.Popen | None = None
        self.url = f"redis://127.0.0.1:{port}/0"

    def start(self) -> None:
        log = (self.root / "redis.log").open("a")
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
            + ["--appendonly", "yes", "--dir", str(self.root)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while self._cli("ping") != "PONG":
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.1)

    def _cli(self, *args: str) -> str:
        out = subprocess.run(
            ["redis-cli", "-p", str(self.port), *args], capture_output=True, text=True
        )
        return out.stdout.strip()

    def stop(self) -> None:
        self._cli("shutdown")  # saves and closes the append-only file
        if self.proc is not None:
            self.proc.wait(timeout=30)
            self.proc = None


class App:
    """One application process (web, worker or beat) in its own process group."""

    def __init__(self, name: str, command: list[str], env: dict, logs: Path, ready: str) -> None:
        self.name, self.command, self.env, self.ready = name, command, env, ready
        self.log = logs / f"{name}.log"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 120) -> float:
        """Start it and wait until its log says it is ready; return the seconds that took."""
        started = time.perf_counter()
        offset = self.log.stat().st_size if self.log.exists() else 0
        self.proc = subprocess.Popen(
            self.command,
            cwd=ROOT,
            env=self.env,
            stdout=self.log.open("a"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        while self.ready not in self.log.read_text(errors="replace")[offset:]:
            if self.proc.poll() is not None or time.perf_counter() - started > timeout:
                self.kill()
                raise RuntimeError(f"{self.name} did not start; see {self.log}")
            time.sleep(0.1)
        return time.perf_counter() - started

    def kill(self) -> None:
        """kill -9 the whole process group, as a crashed container."""
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=30)
        self.proc = None

    def stop(self, grace: float = 60) -> None:
        """SIGTERM (docker stop), then kill -9 after `grace` seconds."""
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=grace)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            print(f"# {self.name} did not stop in {grace} s: killed", file=sys.stderr)
        self.kill()
