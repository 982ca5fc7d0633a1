"""Photos, videos and documents, served only to someone who may see the entry they belong to."""

from __future__ import annotations

import mimetypes
import unicodedata
from pathlib import PurePath

from flask import Blueprint, abort, send_file
from werkzeug.wrappers import Response

from feed.models import Attachment
from portal.access import viewer_attachment
from portal.context import store
from portal.security import FILE_SECURITY_POLICY

bp = Blueprint("media", __name__)


@bp.get("/media/<attachment_key>/<any(full, web, thumb, poster, video):name>")
def rendition(attachment_key: str, name: str) -> Response:
    """Send one rendition of an attachment the viewer may see."""
    attachment = viewer_attachment(attachment_key)
    found = attachment.rendition(name) if attachment else None
    if found is None:
        abort(404)
    filename = rendition_filename(attachment.filename, found.name, found.content_type)
    return send_stored(found.sha256, found.content_type, filename)


@bp.get("/media/<attachment_key>/download")
def download(attachment_key: str) -> Response:
    """Send a document as posted, under its own filename."""
    attachment = viewer_attachment(attachment_key)
    # Photos and videos only ever leave as renditions: originals can carry GPS and other metadata.
    if attachment is None or attachment.kind != Attachment.DOCUMENT:
        abort(404)
    filename = safe_filename(attachment.filename)
    return send_stored(attachment.sha256, attachment.content_type, filename, as_attachment=True)


def send_stored(key: str, content_type: str, filename: str, as_attachment: bool = False) -> Response:
    """Send a stored file with conditional and Range support, cached by this browser only."""
    try:
        path = store().path(key)
    except ValueError:
        abort(404)
    if not path.is_file():
        abort(404)
    response = send_file(
        path,
        mimetype=content_type or "application/octet-stream",
        as_attachment=as_attachment,
        download_name=filename,
        conditional=True,
        etag=key,
    )
    response.headers["Cache-Control"] = "private, max-age=86400"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = FILE_SECURITY_POLICY
    return response


def rendition_filename(original: str, name: str, content_type: str) -> str:
    """Name a rendition after its original, so a saved photo is "IMG_0042-full.jpg", not a hash."""
    extension = {"image/jpeg": ".jpg"}.get(content_type) or mimetypes.guess_extension(content_type) or ""
    return f"{PurePath(safe_filename(original)).stem}-{name}{extension}"


def safe_filename(filename: str) -> str:
    """Return the filename without control characters or folders, so it is safe in a header."""
    cleaned = "".join(c for c in filename if unicodedata.category(c)[0] != "C")
    cleaned = cleaned.replace("/", "_").replace("\\", "_").strip(" .")
    return cleaned or "document"
