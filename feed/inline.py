"""Decide which of an email's files to post: each picture once, and no signature logos."""

from __future__ import annotations

import hashlib
import io
import re
import warnings
from dataclasses import dataclass, replace
from urllib.parse import unquote

from PIL import Image

from feed.mime import FoundFile

CID_REFERENCE = re.compile(r"""cid:([^"'\s<>)]+)""", re.IGNORECASE)

# A signature logo is a picture the HTML shows inline (never one the sender attached) that is
# small in bytes and either small in pixels or a thin strip: company logos, social icons and
# banners are all of that; a site photo, even a heavily compressed one, is neither.
# Position in the message is not used: in a reply the signature sits mid-message, above the
# quote, and Apple Mail places photos at the end, so where an image sits says little.
SIGNATURE_IMAGE_BYTES = 15_000
SIGNATURE_IMAGE_SIDE = 300
SIGNATURE_STRIP_RATIO = 3


@dataclass(frozen=True)
class ChosenFile:
    """A file to post, and whether the HTML showed it inline."""

    file: FoundFile
    inline: bool


def cid_references(htmls: list[str]) -> set[str]:
    """Collect the Content-IDs the HTML bodies show with cid: links, case-folded."""
    return {unquote(match).casefold() for body in htmls for match in CID_REFERENCE.findall(body)}


def _pixel_size(payload: bytes) -> tuple[int, int] | None:
    """Read a picture's size from its header alone; None when it is no picture Pillow reads."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a decompression-bomb warning is the media stage's concern
            with Image.open(io.BytesIO(payload)) as picture:
                return picture.size
    except Exception:
        return None


def is_signature_image(file: FoundFile, inline: bool) -> bool:
    """Say whether an inline picture is a signature logo or icon rather than something to post."""
    if not inline or file.attached or len(file.payload) >= SIGNATURE_IMAGE_BYTES:
        return False
    size = _pixel_size(file.payload)
    if size is None:
        return False
    longest, shortest = max(size), max(min(size), 1)
    return longest <= SIGNATURE_IMAGE_SIDE or longest >= SIGNATURE_STRIP_RATIO * shortest


def choose_files(files: list[FoundFile], htmls: list[str]) -> list[ChosenFile]:
    """Keep each distinct payload once, in order, flag what the HTML shows, and drop signature logos."""
    referenced = cid_references(htmls)
    kept: dict[str, ChosenFile] = {}
    for file in files:
        inline = bool(file.content_id) and file.content_id.casefold() in referenced
        digest = hashlib.sha256(file.payload).hexdigest()
        first = kept.get(digest)
        if first is None:
            kept[digest] = ChosenFile(file, inline)
        else:
            # The same picture shown inline and attached as well: one picture, shown inline.
            content_id = file.content_id if inline and not first.inline else first.file.content_id
            merged = replace(first.file, content_id=content_id, attached=first.file.attached or file.attached)
            kept[digest] = ChosenFile(merged, first.inline or inline)
    return [chosen for chosen in kept.values() if not is_signature_image(chosen.file, chosen.inline)]
