"""Content-addressed file storage: one interface, a local folder implementation."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Protocol


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class FileStore(Protocol):
    """Where attachment bytes and renditions live, named by the sha256 of their content."""

    def put(self, data: bytes) -> str:
        """Store `data` (once, however often it is put) and return its key."""
        ...

    def get(self, key: str) -> bytes: ...

    def path(self, key: str) -> Path:
        """A local path to the file, for sending it without reading it into memory."""
        ...

    def exists(self, key: str) -> bool: ...


class LocalFileStore:
    """A folder on this machine, two levels of fan-out: ab/cd/abcd…"""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        if len(key) != 64 or not all(c in "0123456789abcdef" for c in key):
            raise ValueError(f"not a content key: {key!r}")
        return self.root / key[:2] / key[2:4] / key

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def put(self, data: bytes) -> str:
        key = sha256_hex(data)
        target = self.path(key)
        if target.is_file():
            return key
        target.parent.mkdir(parents=True, exist_ok=True)
        # Write beside the target and rename: a reader never sees half a file.
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return key

    def get(self, key: str) -> bytes:
        return self.path(key).read_bytes()
