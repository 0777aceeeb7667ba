"""Kills our child processes if we die without stopping them (SIGKILL, crash), so no broker outlives its test run.

Our children run in their own sessions (so a terminal's Ctrl-C reaches only us and we stop them in order),
which also means nothing stops them when we are killed. A small watchdog process holds the read end of a pipe
that only we can write to: we tell it each child's pid as we start and stop them, and when the pipe reaches
EOF — we exited, however — it SIGKILLs the process groups still registered.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO


def process_start_time(pid: int) -> str | None:
    """Field 22 of /proc/<pid>/stat: with the pid, it names one process, even after the pid is reused."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may contain spaces and parentheses; the fields after it do not.
    return stat.rsplit(")", 1)[1].split()[19]


class _Watch:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._owner_pid = 0
        self._pipe: IO[str] | None = None
        self._proc: subprocess.Popen[str] | None = None  # kept so it is not reaped-and-warned about early

    def add(self, pid: int) -> None:
        started = process_start_time(pid)
        if started is not None:
            self._send(f"add {pid} {started}\n")

    def remove(self, pid: int) -> None:
        self._send(f"del {pid}\n")

    def _send(self, line: str) -> None:
        with self._lock:
            if self._owner_pid != os.getpid():  # first use, or we are a fork that must not share the parent's
                self._proc = self._spawn()
                self._pipe = self._proc.stdin if self._proc is not None else None
                self._owner_pid = os.getpid()
            if self._pipe is None:
                return
            try:
                self._pipe.write(line)
                self._pipe.flush()
            except (BrokenPipeError, ValueError):
                self._pipe = None  # the watchdog is gone: we lose only the safety net

    @staticmethod
    def _spawn() -> subprocess.Popen[str] | None:
        try:
            return subprocess.Popen(
                [sys.executable, "-m", "btdeploy.watchdog"],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                text=True,
                start_new_session=True,
            )
        except OSError:
            return None


_watch = _Watch()


def watch(pid: int) -> None:
    _watch.add(pid)


def unwatch(pid: int) -> None:
    _watch.remove(pid)


def main() -> None:
    # Signals that reach the whole terminal are our parent's to handle; we only wait for its end.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    watched: dict[int, str] = {}
    for line in sys.stdin:
        match line.split():
            case ["add", pid, started]:
                watched[int(pid)] = started
            case ["del", pid]:
                watched.pop(int(pid), None)
    for pid, started in watched.items():
        if process_start_time(pid) == started:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)


if __name__ == "__main__":
    main()
