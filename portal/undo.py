"""Undo from a receipt: the link opens a page, and only its button hides the entry."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from itsdangerous import BadSignature, SignatureExpired
from sqlalchemy import select

from feed.keys import read_undo_token
from feed.models import Entry
from portal.context import db, settings

bp = Blueprint("undo", __name__)


def _entry(token: str) -> tuple[Entry | None, bool]:
    """The entry an undo link names, and whether the link has expired; 404 for a forged link."""
    try:
        key = read_undo_token(settings(), token)
    except SignatureExpired:
        return None, True
    except BadSignature:
        abort(404)
    entry = db().scalar(select(Entry).where(Entry.key == key))
    if entry is None:
        abort(404)
    return entry, False


@bp.get("/undo/<token>")
def confirm(token: str) -> str:
    # Mail scanners open every link: this page only asks, the button below does it.
    entry, expired = _entry(token)
    return render_template("portal/undo.html", entry=entry, expired=expired, done=False)


@bp.post("/undo/<token>")
def hide(token: str) -> str:
    entry, expired = _entry(token)
    if entry is not None:
        entry.hidden = True
    return render_template("portal/undo.html", entry=entry, expired=expired, done=entry is not None)
