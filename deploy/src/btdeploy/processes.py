"""Child processes we start ourselves, track by pid, and stop by pid: services, relays, brokers, databases."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

import httpx

from btdeploy import watchdog


def log_tail(path: Path, lines: int = 40) -> str:
    """The last lines of a log file, for error messages that must say why a process did not come up."""
    try:
        with path.open("rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 64 * 1024))
            text = f.read().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return f"(no log at {path})"
    return "\n".join(text.splitlines()[-lines:])


class ChildProcess:
    """One process with its output in a log file, in its own process group so that a Ctrl-C in the terminal
    reaches only us and we stop children in the order we choose."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        log_path: Path,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        user: str | None = None,
        stop_signal: int = signal.SIGTERM,
        stop_timeout: float = 15.0,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self.env = dict(env or {})
        self.cwd = cwd
        self.user = user
        self.stop_signal = stop_signal
        self.stop_timeout = stop_timeout
        self._proc: subprocess.Popen[bytes] | None = None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} pid={self.pid}>"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def returncode(self) -> int | None:
        return self._proc.poll() if self._proc is not None else None

    def start(self) -> None:
        if self.running:
            raise RuntimeError(f"{self.name} is already running (pid {self.pid})")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **self.env}
        # Appending keeps the output of earlier runs of the same process (e.g. before a crash test's kill).
        with self.log_path.open("ab") as log:
            stamp = datetime.now(UTC).isoformat(timespec="seconds")
            log.write(f"=== {stamp} starting {self.name}: {' '.join(self.argv)}\n".encode())
            log.flush()
            self._proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=self.cwd,
                start_new_session=True,
                # As root, PostgreSQL must run as its own OS user; dropping root here keeps our pid its pid.
                user=self.user,
                group=self.user,
                extra_groups=[] if self.user is not None else None,
            )
        watchdog.watch(self._proc.pid)

    def wait(self, timeout: float | None = None) -> int:
        if self._proc is None:
            raise RuntimeError(f"{self.name} was never started")
        return self._proc.wait(timeout)

    def stop(self, timeout: float | None = None) -> None:
        """Ask the process to stop with its stop signal; SIGKILL its process group if it has not after `timeout`."""
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):  # it may exit between poll() and here
            os.kill(proc.pid, self.stop_signal)
        try:
            proc.wait(self.stop_timeout if timeout is None else timeout)
        except subprocess.TimeoutExpired:
            self.kill()
        watchdog.unwatch(proc.pid)

    def kill(self) -> None:
        """SIGKILL, no chance to clean up: what crash tests use."""
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            # Only while unreaped: the pid (= process group id) cannot have been reused yet.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        watchdog.unwatch(proc.pid)

    def restart(self) -> None:
        self.stop()
        self.start()

    def log_tail(self, lines: int = 40) -> str:
        return log_tail(self.log_path, lines)

    def check_alive(self, doing: str) -> None:
        """Raise with the log tail if the process has exited while we were `doing` something with it."""
        code = self.returncode
        if code is not None:
            raise RuntimeError(
                f"{self.name} exited with code {code} while {doing}; last lines of {self.log_path}:\n"
                f"{self.log_tail()}"
            )


class MigrationProcess(ChildProcess):
    """The pre-start step of one service: `python -m btkernel.migrate <app>` applies the migrations the app names,
    once, before any process of the service starts (ADR 0015). Its output goes to the service's log."""

    def __init__(self, name: str, app: str, env: Mapping[str, str], log_path: Path) -> None:
        argv = [sys.executable, "-m", "btkernel.migrate", app]
        super().__init__(f"{name}-migrate", argv, log_path=log_path, env=env)

    def finish(self, timeout: float = 120.0) -> None:
        """Wait for the step to end; raise with the log tail unless it succeeded."""
        try:
            code = self.wait(timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise RuntimeError(
                f"{self.name} did not finish in {timeout:.0f} s; last lines of {self.log_path}:\n{self.log_tail()}"
            ) from None
        if self._proc is not None:
            watchdog.unwatch(self._proc.pid)
        if code != 0:
            raise RuntimeError(
                f"{self.name} failed (exit code {code}); last lines of {self.log_path}:\n{self.log_tail()}"
            )


class ServiceProcess(ChildProcess):
    """One service's ASGI app under uvicorn on 127.0.0.1:<port>, with the connection limits of `btkernel.serve`
    (header, body and keep-alive timeouts, concurrency limit) — in this process, so its pid is the server's."""

    def __init__(self, name: str, app: str, port: int, env: Mapping[str, str], log_path: Path) -> None:
        argv = [
            sys.executable,
            "-m",
            "btkernel.serve",
            app,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
        ]
        super().__init__(name, argv, log_path=log_path, env=env)
        self.app = app
        self.port = port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Poll GET /health until it answers 200; fail with the log tail if the process exits or time runs out."""
        deadline = time.monotonic() + timeout
        last = "no answer yet"
        with httpx.Client(timeout=2.0) as client:
            while True:
                self.check_alive("starting")
                try:
                    response = client.get(f"{self.url}/health")
                    if response.status_code == 200:
                        return
                    last = f"HTTP {response.status_code}: {response.text[:200]}"
                except httpx.HTTPError as exc:
                    last = repr(exc)
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"{self.name} not healthy after {timeout:.0f} s at {self.url}/health ({last}); "
                        f"last lines of {self.log_path}:\n{self.log_tail()}"
                    )
                time.sleep(0.1)

    def restart(self, wait: bool = True) -> None:
        super().restart()
        if wait:
            self.wait_ready()
