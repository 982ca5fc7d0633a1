"""The spool: raw accepted messages on disk, durable before we say 250."""

from __future__ import annotations

import os
import secrets
from datetime import UTC, datetime
from pathlib import Path


class Spool:
    """A maildir-like folder: write into tmp/, fsync, rename into new/, fsync the folder."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.tmp = self.root / "tmp"
        self.new = self.root / "new"

    def ensure(self) -> None:
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.new.mkdir(parents=True, exist_ok=True)

    def write(self, data: bytes) -> str:
        """Store the bytes durably and return the spool name; only then may the sender be told 250."""
        self.ensure()
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        name = f"{stamp}-{secrets.token_hex(8)}.eml"
        tmp_path = self.tmp / name
        fd = os.open(tmp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp_path, self.new / name)
        # The rename is only durable once the folder itself is synced.
        dir_fd = os.open(self.new, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        return name

    def path(self, name: str) -> Path:
        if "/" in name or name.startswith("."):
            raise ValueError(f"not a spool name: {name!r}")
        return self.new / name

    def read(self, name: str) -> bytes:
        return self.path(name).read_bytes()

    def discard(self, name: str) -> None:
        """Remove a spooled copy that was never recorded (it was a duplicate)."""
        self.path(name).unlink(missing_ok=True)
