"""``huddle demo`` in its own process, as the README runs it (the installed console script),
and what the tests read of it: its printed lines, its child processes (from /proc)."""

from __future__ import annotations

import os
import queue
import re
import subprocess
import threading
from pathlib import Path

from ..cli.runner import HUDDLE
from ..sessions.live import free_port


class Demo:
    """``huddle demo`` running; every line it printed, and what they say."""

    def __init__(self, port: int | None = None, *extra: str) -> None:
        self.port, sandbox_port = port or free_port(), free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("HUDDLE_")}
        self.proc = subprocess.Popen([str(HUDDLE), "demo", "--port", str(self.port), "--sandbox-port",
                                      str(sandbox_port), "--block-interval", "2", *extra], env={**env, "PYTHONUNBUFFERED": "1"},
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: queue.Queue = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=lambda: [self.lines.put(line.rstrip("\n")) for line in self.proc.stdout],
                         daemon=True).start()

    def until(self, text: str, timeout: float = 120) -> str:
        while True:
            line = self.lines.get(timeout=timeout)
            self.seen.append(line)
            if text in line:
                return line

    def rest(self) -> str:
        """Everything printed, once the process has ended."""
        self.proc.wait(timeout=60)
        while True:
            try:
                self.seen.append(self.lines.get(timeout=2))
            except queue.Empty:
                return "\n".join(self.seen)

    def printed(self, pattern: str) -> re.Match:
        found = next((m for m in map(re.compile(pattern).search, self.seen) if m), None)
        assert found, f"{pattern!r} not in what huddle demo printed:\n" + "\n".join(self.seen)
        return found


def children_of(pid: int) -> list[int]:
    """Every live process whose parent is ``pid`` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
