"""Run a Procfile's processes and keep them running: ``make run``'s process manager.

    python -m samplemind.supervise [-f Procfile]

Unlike honcho, which stops everything when one process ends, a process that
dies is started again, after 1 s, doubling up to 30 s while it keeps dying
soon after starting; the others run on. Ctrl-C, SIGTERM or SIGHUP stop them
all: SIGTERM to each one's process group, SIGKILL to what is left after 20 s.
Each line a process prints is shown after its name.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

RESTART_DELAY = 1.0
RESTART_DELAY_MAX = 30.0
# A process that ran this long before dying is restarted after RESTART_DELAY again.
STABLE_SECONDS = 60.0
STOP_SECONDS = 20.0

_print_lock = threading.Lock()


def say(name: str, line: str) -> None:
    with _print_lock:
        print(f"{time.strftime('%H:%M:%S')} {name:<10} | {line}", flush=True)


def read_procfile(path: Path) -> dict[str, str]:
    """``name: command`` lines, in order; blank lines and ``#`` comments skipped."""
    programs = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, command = line.partition(":")
            programs[name.strip()] = command.strip()
    return programs


@dataclass
class Program:
    name: str
    command: str
    process: subprocess.Popen | None = None
    started: float = 0.0
    quick_deaths: int = 0
    restart_at: float = 0.0

    def start(self) -> None:
        # exec: the pid is the program's own, so signals and kills reach it, not a shell.
        # A session of its own: Ctrl-C reaches only the supervisor, which stops everything
        # in order, and a dead program's leftover children can be killed with its group.
        self.process = subprocess.Popen(  # noqa: S603 - the Procfile's own command lines
            ["/bin/sh", "-c", f"exec {self.command}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.started = time.monotonic()
        say("supervise", f"{self.name} started (pid {self.process.pid})")
        threading.Thread(target=self._relay, args=(self.process,), daemon=True).start()

    def _relay(self, process: subprocess.Popen) -> None:
        for raw in process.stdout:
            say(self.name, raw.decode(errors="replace").rstrip())

    def check(self, now: float) -> None:
        """Notice a death and schedule the restart; start it when its time has come."""
        if self.process is not None and self.process.poll() is not None:
            code = self.process.returncode
            _kill_group(self.process.pid, signal.SIGKILL)  # e.g. workers of a killed master
            ran = now - self.started
            self.quick_deaths = 0 if ran >= STABLE_SECONDS else self.quick_deaths + 1
            delay = min(RESTART_DELAY * 2 ** max(self.quick_deaths - 1, 0), RESTART_DELAY_MAX)
            how = f"signal {signal.Signals(-code).name}" if code < 0 else f"exit {code}"
            say("supervise", f"{self.name} died ({how}) after {ran:.0f} s; again in {delay:.0f} s")
            self.process = None
            self.restart_at = now + delay
        if self.process is None and now >= self.restart_at:
            self.start()


def _kill_group(pid: int, signum: int) -> None:
    try:
        os.killpg(pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def stop_all(programs: list[Program]) -> None:
    running = [p.process for p in programs if p.process is not None]
    for process in running:
        _kill_group(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_SECONDS
    for process in running:
        try:
            process.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            pass
        _kill_group(process.pid, signal.SIGKILL)
        process.wait()


def supervise(programs: list[Program]) -> int:
    """Run ``programs`` until a stop signal arrives; restart any that die."""
    stopping = threading.Event()

    def stop(signum: int, frame: object) -> None:
        stopping.set()

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, stop)
    try:
        while not stopping.is_set():
            now = time.monotonic()
            for program in programs:
                program.check(now)
            stopping.wait(0.2)
    finally:
        say("supervise", "stopping")
        stop_all(programs)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m samplemind.supervise", description=__doc__)
    parser.add_argument("-f", "--procfile", type=Path, default=Path("Procfile"))
    args = parser.parse_args(argv)
    programs = [Program(name, command) for name, command in read_procfile(args.procfile).items()]
    if not programs:
        parser.error(f"{args.procfile} names no processes")
    return supervise(programs)


if __name__ == "__main__":
    sys.exit(main())
