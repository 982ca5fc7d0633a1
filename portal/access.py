"""Who the browser is: personal links open a session, and every lookup is scoped by it."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, session, url_for
from sqlalchemy import Select, select
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

from feed.models import Attachment, Entry, Member, Project
from portal.context import db, settings

bp = Blueprint("access", __name__)

# A signed cookie holds at most ~4 KB; a browser that opened more links keeps the newest.
MAX_REMEMBERED_MEMBERS = 50


def viewer_member_ids() -> list[int]:
    """Return the member ids this browser has been let in by, ignoring anything malformed."""
    remembered = session.get("members")
    if not isinstance(remembered, list):
        return []
    return [m for m in remembered if isinstance(m, int) and not isinstance(m, bool)]


def viewer_project_ids() -> Select[tuple[int]]:
    return select(Member.project_id).where(Member.id.in_(viewer_member_ids()))


def viewer_project(project_key: str) -> Project | None:
    """Return the project with this key if the viewer belongs to it, else None."""
    query = select(Project).where(Project.key == project_key, Project.id.in_(viewer_project_ids()))
    return db().scalar(query)


def viewer_member(project: Project) -> Member | None:
    """Return who the viewer is on this project (a client before staff), or None."""
    members = db().scalars(select(Member).where(Member.id.in_(viewer_member_ids()), Member.project_id == project.id))
    return min(members, key=lambda m: (m.role != Member.CLIENT, m.id), default=None)


def viewer_projects() -> list[Project]:
    """Return every project the viewer belongs to, by name."""
    query = select(Project).where(Project.id.in_(viewer_project_ids())).order_by(Project.name, Project.id)
    return list(db().scalars(query))


def viewer_attachment(attachment_key: str) -> Attachment | None:
    """Return the attachment with this key if its entry is visible to the viewer, else None."""
    query = (
        select(Attachment)
        .join(Attachment.entry)
        .where(
            Attachment.key == attachment_key,
            Entry.hidden.is_(False),
            Entry.project_id.in_(viewer_project_ids()),
        )
    )
    return db().scalar(query)


def remember_member(member_id: int) -> None:
    """Add a member to this browser's session, newest last, for the next 90 days."""
    others = [m for m in viewer_member_ids() if m != member_id]
    session["members"] = [*others, member_id][-MAX_REMEMBERED_MEMBERS:]
    session.permanent = True


@bp.get("/c/<token>")
def open_link(token: str) -> Response:
    """Let this browser in as the member whose personal link this is, and show their timeline."""
    member = db().scalar(select(Member).where(Member.access_token == token))
    if member is None:
        abort(404)
    remember_member(member.id)
    return redirect(url_for("timeline.show", project_key=member.project.key))


@bp.get("/")
def home() -> str:
    """List the viewer's projects, or explain how to get in."""
    return render_template("portal/home.html", projects=viewer_projects())


@bp.app_errorhandler(404)
def not_found(_error: NotFound) -> tuple[str, int]:
    """Answer anything missing or not the viewer's with the same plain page."""
    return render_template("portal/not_found.html"), 404


@bp.app_context_processor
def site() -> dict[str, str]:
    return {"site_name": settings().sender_name}
