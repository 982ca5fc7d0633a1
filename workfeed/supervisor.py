"""Keep workfeed's processes running for `workfeed run`: restart one that stops, give up on one that cannot start."""

from __future__ import annotations

import subprocess
import sys
import time

import click

# A process that stops this soon after starting did not really start (a taken port, a bad setting).
QUICK_EXIT_SECONDS = 10
QUICK_EXITS_ALLOWED = 3


class Supervisor:
    """Run `workfeed NAME` for each name as a child process."""

    def __init__(self, names: tuple[str, ...], env: dict[str, str]) -> None:
        self.names = names
        self.env = env
        self.children: dict[str, subprocess.Popen[bytes]] = {}
        self.started_at: dict[str, float] = {}
        self.quick_exits = dict.fromkeys(names, 0)

    def start(self, name: str) -> None:
        self.children[name] = subprocess.Popen([sys.executable, "-m", "workfeed", name], env=self.env)
        self.started_at[name] = time.monotonic()

    def start_all(self) -> None:
        for name in self.names:
            self.start(name)

    def revive(self) -> str | None:
        """Restart any process that stopped; return why we give up, or None."""
        for name, child in self.children.items():
            code = child.poll()
            if code is None:
                continue
            quick = time.monotonic() - self.started_at[name] < QUICK_EXIT_SECONDS
            self.quick_exits[name] = self.quick_exits[name] + 1 if quick else 0
            if self.quick_exits[name] >= QUICK_EXITS_ALLOWED:
                return (
                    f"workfeed {name} keeps stopping right after it starts (exit code {code}); see its messages above"
                )
            click.echo(f"workfeed {name} stopped (exit code {code}); starting it again", err=True)
            self.start(name)
        return None

    def stop_all(self) -> None:
        for child in self.children.values():
            if child.poll() is None:
                child.terminate()
        for child in self.children.values():
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
