"""The secret that signs session cookies and links, configured or kept in the data folder."""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

from itsdangerous import URLSafeTimedSerializer

from feed.settings import Settings

SECRET_FILE = "secret.key"
UNDO_SALT = "workfeed-undo-entry"
# An undo link in a receipt works this long; after that an admin hides the entry.
UNDO_SECONDS = 24 * 3600


def secret_key(settings: Settings) -> str:
    """Return SECRET_KEY if set, else this install's own key, made once and kept beside the database."""
    if settings.secret_key:
        return settings.secret_key
    path = Path(settings.data_dir) / SECRET_FILE
    if not path.is_file():
        _create_secret_file(path)
    key = path.read_text(encoding="ascii").strip()
    if not key:
        raise RuntimeError(f"{path} is empty: delete it to make a new key, or set SECRET_KEY")
    return key


def _create_secret_file(path: Path) -> None:
    """Write a new random key to `path` (0600) unless another process got there first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # mkstemp makes the file 0600; linking it into place never replaces a key another
    # process wrote meanwhile, and a reader never sees a half-written file.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".secret-")
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(secrets.token_urlsafe(48))
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
    finally:
        os.unlink(tmp)


def undo_token(settings: Settings, entry_key: str) -> str:
    """Sign an entry's key for the undo link in its receipt."""
    return URLSafeTimedSerializer(secret_key(settings), salt=UNDO_SALT).dumps(entry_key)


def read_undo_token(settings: Settings, token: str, *, max_age: int = UNDO_SECONDS) -> str:
    """Return the entry key an undo link names; raises SignatureExpired or BadSignature."""
    return URLSafeTimedSerializer(secret_key(settings), salt=UNDO_SALT).loads(token, max_age=max_age)
