"""A project's timeline: visible entries, newest first, grouped by day in the project's time zone."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal

from flask import Blueprint, abort, render_template, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from feed.models import Attachment, Decision, Entry, Project
from feed.progress import DoneNext, split_done_next
from feed.projects import project_zone
from portal.access import viewer_member, viewer_project
from portal.context import db, settings

bp = Blueprint("timeline", __name__)

BADGES = {
    "stage": "Stage",
    "decision": "Decision",
    "variation": "Variation",
    "delay": "Delay",
    "milestone": "Milestone",
    "answer": "Answer",
    "message": "Question",
}


@dataclass(frozen=True)
class Photo:
    src: str
    href: str
    width: int | None
    height: int | None
    alt: str


@dataclass(frozen=True)
class Video:
    src: str
    content_type: str
    poster: str | None
    width: int | None
    height: int | None


@dataclass(frozen=True)
class Document:
    href: str
    filename: str
    size: str
    extension: str


@dataclass(frozen=True)
class Item:
    """One entry as the page shows it."""

    entry: Entry
    badge: str
    author: str
    time: str
    moment: datetime
    photos: list[Photo]
    videos: list[Video]
    documents: list[Document]
    note: DoneNext


@dataclass(frozen=True)
class Day:
    day: date
    heading: str
    items: list[Item]


@bp.get("/p/<project_key>")
def show(project_key: str) -> str:
    """Show the project's timeline to a member of it; anyone else gets the same 404 as a wrong key."""
    project = viewer_project(project_key)
    if project is None:
        abort(404)
    zone = project_zone(project, settings().default_timezone)
    entries = visible_entries(project)
    days = group_by_day(entries, zone, datetime.now(zone).date())
    waiting = [e for e in reversed(entries) if e.decision is not None and e.decision.is_open]
    return render_template(
        "portal/timeline.html",
        project=project,
        days=days,
        waiting=waiting,
        viewer=viewer_member(project),
        stages=stage_bar(project, entries),
        variations=variation_summary(entries),
    )


@dataclass(frozen=True)
class StageStep:
    name: str
    state: str  # "done", "current" or "todo"
    milestones: tuple[str, ...]


def stage_bar(project: Project, entries: list[Entry]) -> list[StageStep]:
    """The project's stages in order, with the current one marked and milestones under the stage they fell in."""
    stages = project.stages
    current = stages.index(project.current_stage) if project.current_stage in stages else -1
    reached: dict[str, list[str]] = {}
    stage_at_time = None
    for entry in sorted(entries, key=lambda e: (e.occurred_at, e.id)):
        if entry.kind == "stage":
            stage_at_time = next((name for name in stages if name.lower() in entry.title.lower()), stage_at_time)
        if entry.kind == "milestone":
            reached.setdefault(stage_at_time or project.current_stage or "", []).append(entry.title)
    return [
        StageStep(name, "done" if n < current else "current" if n == current else "todo", tuple(reached.get(name, ())))
        for n, name in enumerate(stages)
    ]


@dataclass(frozen=True)
class VariationSummary:
    approved: list[str]  # totals per currency, e.g. "+£180.00"
    approved_days: int
    pending: list[Entry]


def variation_summary(entries: list[Entry]) -> VariationSummary | None:
    """The running total of approved variations and the list still waiting, or None when there are none."""
    variations = [e for e in entries if e.kind == "variation" and e.decision is not None]
    if not variations:
        return None
    totals: dict[str, Decimal] = {}
    days = 0
    for entry in variations:
        decision = entry.decision
        if decision.state == "approved":
            if decision.cost is not None:
                totals[decision.currency] = totals.get(decision.currency, Decimal(0)) + decision.cost
            days += decision.days or 0
    pending = [e for e in variations if e.decision.is_open]
    return VariationSummary([money(amount, currency) for currency, amount in totals.items()], days, pending)


def money(amount: Decimal, currency: str) -> str:
    symbol = {"GBP": "£", "EUR": "€", "USD": "$"}.get(currency, f"{currency} ")
    sign = "-" if amount < 0 else "+"
    return f"{sign}{symbol}{abs(amount):,.2f}"


def visible_entries(project: Project) -> list[Entry]:
    """Return the project's entries a client may see, newest first, with their media loaded."""
    query = (
        select(Entry)
        .where(Entry.project_id == project.id, Entry.hidden.is_(False))
        .order_by(Entry.occurred_at.desc(), Entry.id.desc())
        .options(
            selectinload(Entry.author),
            selectinload(Entry.decision).selectinload(Decision.answered_by),
            selectinload(Entry.attachments).selectinload(Attachment.renditions),
        )
    )
    return list(db().scalars(query))


def day_heading(day: date, today: date) -> str:
    """Name a day the way a person would: Today, Yesterday, or Monday 24 November 2025."""
    if day == today:
        return "Today"
    if day == today - timedelta(days=1):
        return "Yesterday"
    return f"{day:%A} {day.day} {day:%B %Y}"


def group_by_day(entries: Iterable[Entry], zone: tzinfo, today: date) -> list[Day]:
    """Group entries (already newest first) under the local day they happened on."""
    days: list[Day] = []
    for entry in entries:
        moment = entry.occurred_at.astimezone(zone)  # stored times come back aware (UTCDateTime)
        if not days or days[-1].day != moment.date():
            days.append(Day(moment.date(), day_heading(moment.date(), today), []))
        days[-1].items.append(present_entry(entry, moment))
    return days


def present_entry(entry: Entry, moment: datetime) -> Item:
    """Split an entry's attachments into what the page shows: photos, videos and documents."""
    images = _of_kind(entry, Attachment.IMAGE)
    photos = [photo for n, a in enumerate(images, 1) if (photo := present_photo(a, n, len(images)))]
    videos = [video for video in map(present_video, _of_kind(entry, Attachment.VIDEO)) if video]
    documents = [present_document(a) for a in _of_kind(entry, Attachment.DOCUMENT)]
    return Item(
        entry=entry,
        badge=BADGES.get(entry.kind, ""),
        author=entry.author.display_name if entry.author else "",
        time=f"{moment:%H:%M}",
        moment=moment,
        photos=photos,
        videos=videos,
        documents=documents,
        note=split_done_next(entry.body),
    )


def _of_kind(entry: Entry, kind: str) -> list[Attachment]:
    return [a for a in entry.attachments if a.kind == kind]


def _rendition_url(attachment: Attachment, name: str) -> str:
    return url_for("media.rendition", attachment_key=attachment.key, name=name)


def present_photo(attachment: Attachment, number: int, total: int) -> Photo | None:
    """Return the thumbnail linking to the full photo, or None while no rendition exists."""
    thumb = attachment.rendition("thumb") or attachment.rendition("web")
    if thumb is None:
        return None
    target = attachment.rendition("full") or attachment.rendition("web") or thumb
    return Photo(
        src=_rendition_url(attachment, thumb.name),
        href=_rendition_url(attachment, target.name),
        width=thumb.width,
        height=thumb.height,
        alt=f"Photo {number} of {total}" if total > 1 else "Photo",
    )


def present_video(attachment: Attachment) -> Video | None:
    """Return the playable video with its poster frame, or None while it is not transcoded."""
    clip = attachment.rendition("video")
    if clip is None:
        return None
    poster = attachment.rendition("poster")
    return Video(
        src=_rendition_url(attachment, clip.name),
        content_type=clip.content_type,
        poster=_rendition_url(attachment, poster.name) if poster else None,
        width=clip.width or (poster.width if poster else None),
        height=clip.height or (poster.height if poster else None),
    )


def present_document(attachment: Attachment) -> Document:
    return Document(
        href=url_for("media.download", attachment_key=attachment.key),
        filename=attachment.filename,
        size=human_size(attachment.size),
        extension=file_extension(attachment.filename),
    )


def file_extension(filename: str) -> str:
    """Return a short upper-case type label from the filename (PDF, DOCX), or "" if it has none."""
    stem, dot, suffix = filename.rpartition(".")
    return suffix.upper() if stem and dot and suffix.isalnum() and len(suffix) <= 4 else ""


def human_size(size: int) -> str:
    """Say a file size the way a download link does: 340 KB, 2.4 MB."""
    if size < 1024 * 1024:
        return f"{max(1, round(size / 1024))} KB"
    if size < 1024**3:
        return f"{size / 1024**2:.1f} MB".replace(".0 MB", " MB")
    return f"{size / 1024**3:.1f} GB".replace(".0 GB", " GB")
