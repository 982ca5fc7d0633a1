"""Start workfeed's real processes (gateway, portal, worker) for end-to-end tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

# The folder the processes run in, as a user's install would: DATA_DIR is relative to it.
HOME = "WORKFEED_TEST_HOME"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listened on {port} within {timeout}s")


def workfeed(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run one `workfeed` command to completion."""
    return subprocess.run(
        [sys.executable, "-m", "workfeed", *args],
        env=env,
        cwd=env[HOME],
        capture_output=True,
        text=True,
        check=check,
        timeout=120,
    )


@contextmanager
def running(env: dict[str, str], *names: str, logs: Path) -> Iterator[dict[str, subprocess.Popen[bytes]]]:
    """Run `workfeed NAME` processes, waiting for the listening ones; stop them all afterwards."""
    logs.mkdir(parents=True, exist_ok=True)
    processes: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for name in names:
            log = open(logs / f"{name}.log", "ab")
            processes[name] = subprocess.Popen(
                [sys.executable, "-m", "workfeed", name], env=env, cwd=env[HOME], stdout=log, stderr=subprocess.STDOUT
            )
        if "smtp" in processes:
            wait_for_port(int(env["GATEWAY_PORT"]), processes["smtp"])
        if "web" in processes:
            wait_for_port(int(env["PORT"]), processes["web"])
        yield processes
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.terminate()
        for process in processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


def base_env(tmp: Path, database_url: str, redis_url: str, **extra: str) -> dict[str, str]:
    """The environment of a workfeed install living in `tmp`."""
    web_port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE_", "REDIS_", "MEDIA_", "SPOOL_", "OUTBOUND_", "PUBLIC_", "GATEWAY_"))
    }
    env.update(
        DATA_DIR="data",
        WORKFEED_TEST_HOME=str(tmp),
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        MAIL_DOMAIN="updates.example.com",
        GATEWAY_HOST="127.0.0.1",
        GATEWAY_PORT=str(free_port()),
        PORT=str(web_port),
        PUBLIC_URL=f"http://127.0.0.1:{web_port}",
        SECRET_KEY="end-to-end-secret",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def portal_session(link: str) -> requests.Session:
    """A browser-like session that has opened a personal link."""
    browser = requests.Session()
    response = browser.get(link, timeout=10)
    response.raise_for_status()
    return browser
