"""Unpack Outlook's winmail.dat (application/ms-tnef) into the files the sender attached."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from tnefparse import TNEF
from tnefparse.properties import MAPI_ATTACH_LONG_FILENAME, MAPI_ATTACH_MIME_TAG

from feed.charsets import decode_text

TNEF_TYPES = frozenset({"application/ms-tnef", "application/vnd.ms-tnef"})
TNEF_SIGNATURE = b"\x78\x9f\x3e\x22"


@dataclass(frozen=True)
class TnefFile:
    """A file packed inside a winmail.dat."""

    filename: str
    content_type: str | None
    payload: bytes


def is_tnef(content_type: str, filename: str, payload: bytes) -> bool:
    """Say whether a part is a TNEF container, by its type, its usual name or its signature."""
    return content_type in TNEF_TYPES or filename.lower() == "winmail.dat" or payload.startswith(TNEF_SIGNATURE)


def _text(value: object) -> str:
    if isinstance(value, list):
        value = value[0] if value else ""
    if isinstance(value, bytes):
        value = decode_text(value)
    return str(value or "").strip("\x00").strip()


def _property(attachment: object, name: int) -> str:
    for attribute in getattr(attachment, "mapi_attrs", ()):
        if attribute.name == name:
            try:
                return _text(attribute.data)
            except Exception:
                return ""
    return ""


def unpack_tnef(data: bytes) -> list[TnefFile]:
    """List the files inside a TNEF stream; nothing when it is damaged beyond reading."""
    try:
        # The checksum only says the stream was damaged; what can still be read is still worth having.
        container = TNEF(data, do_checksum=False)
    except Exception as error:
        logging.getLogger(__name__).info("unreadable winmail.dat: %s", error)
        return []
    files = []
    for attachment in container.attachments:
        payload = attachment.data
        # An embedded Outlook message is another TNEF stream, not a file anyone can open.
        if not isinstance(payload, bytes) or not payload or getattr(attachment, "embed", None) is not None:
            continue
        # tnefparse's own `name` decodes the DOS title as UTF-8 and fails on Outlook's code-page bytes.
        name = _property(attachment, MAPI_ATTACH_LONG_FILENAME) or _text(getattr(attachment, "_name", b""))
        content_type = _property(attachment, MAPI_ATTACH_MIME_TAG).lower() or None
        files.append(TnefFile(name, content_type if content_type and "/" in content_type else None, payload))
    return files
