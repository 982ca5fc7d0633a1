"""The weekly digest: what a client has not yet been told, when it is due, and the email that tells it."""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import make_msgid
from zoneinfo import ZoneInfo

from PIL import Image, ImageDraw, ImageOps
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from feed.mail import compose_email, render_email
from feed.models import Attachment, Digest, Entry, Member, Project
from feed.projects import personal_link, project_zone
from feed.settings import Settings
from feed.storage import FileStore

log = logging.getLogger(__name__)

MAX_IMAGES_PER_ENTRY = 3
MAX_IMAGES = 9
EXCERPT_CHARS = 160
# Thumbnails show at 176 px; twice that stays sharp on phone screens and keeps the email small.
THUMB_PIXELS = 352

KIND_LABELS = {
    "stage": "Stage change",
    "decision": "Decision needed",
    "variation": "Variation",
    "delay": "Delay",
    "milestone": "Milestone",
    "delivery": "Delivery",
    "question": "Question",
}


@dataclass(frozen=True)
class DigestImage:
    """One thumbnail to embed: a photo's "thumb" rendition, or a video's poster thumbnail."""

    key: str
    is_video: bool

    @property
    def ref(self) -> str:
        """Name this image in the email; a video's poster gets a play button, so it differs from the photo."""
        return f"{self.key}-video" if self.is_video else self.key


@dataclass(frozen=True)
class DigestItem:
    """One entry as the digest shows it."""

    kind: str
    kind_label: str
    title: str
    excerpt: str
    day: str
    author: str
    images: tuple[DigestImage, ...]
    more_photos: int
    more_videos: int

    @property
    def photo_count(self) -> int:
        return self.more_photos + sum(not image.is_video for image in self.images)

    @property
    def video_count(self) -> int:
        return self.more_videos + sum(image.is_video for image in self.images)


@dataclass(frozen=True)
class DigestContent:
    """Everything one digest email says to one client, newest entry first."""

    project_name: str
    recipient_name: str
    recipient_email: str
    access_token: str
    items: tuple[DigestItem, ...]
    covers_until: datetime
    since: datetime | None
    since_day: str
    oldest: datetime

    @property
    def count(self) -> int:
        return len(self.items)

    @property
    def is_weekly(self) -> bool:
        """Tell whether every entry is from the last seven days, so "this week" is true."""
        return self.covers_until - self.oldest <= timedelta(days=7)


def as_utc(moment: datetime) -> datetime:
    """Read a stored time as UTC: SQLite hands back naive values, written in UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def format_day(moment: datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b}"


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """Shorten text to one line of about `limit` characters, cut between words."""
    line = " ".join(text.split())
    if len(line) <= limit:
        return line
    cut = line[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,.;:-") + "…"


def slot_time(text: str) -> time:
    """Read "HH:MM" (or "H:MM") as a time of day."""
    hours, _, minutes = text.strip().partition(":")
    try:
        return time(int(hours), int(minutes or 0))
    except ValueError:
        raise ValueError(f"digest_time must look like HH:MM, not {text!r}") from None


def weekly_slot(project: Project, now: datetime) -> datetime:
    """Return this week's digest time for the project (Monday-based week, in the project's zone)."""
    if not 0 <= project.digest_weekday <= 6:
        raise ValueError(f"digest_weekday must be 0 (Monday) to 6 (Sunday), not {project.digest_weekday}")
    zone = project_zone(project)
    local_now = now.astimezone(zone)
    monday = local_now.date() - timedelta(days=local_now.weekday())
    slot_day = monday + timedelta(days=project.digest_weekday)
    return datetime.combine(slot_day, slot_time(project.digest_time), tzinfo=zone)


def due_period(project: Project, now: datetime) -> str | None:
    """Name the period whose digest is due now, or None before this week's slot."""
    slot = weekly_slot(project, now)
    if as_utc(now) < slot.astimezone(UTC):
        return None
    return f"week-{slot.date().isoformat()}"


def last_covered(session: Session, member: Member) -> datetime | None:
    """Return the end of what the member's last delivered digest covered."""
    # Only digests that went out count, so a week whose send failed rolls into the next digest.
    last = session.scalar(
        select(func.max(Digest.covers_until)).where(Digest.member_id == member.id, Digest.sent_at.is_not(None))
    )
    return as_utc(last) if last is not None else None


def digest_content(session: Session, member: Member, now: datetime) -> DigestContent | None:
    """Collect the visible entries posted for the member's project since their last digest, or None."""
    now = as_utc(now)
    since = last_covered(session, member)
    query = (
        select(Entry)
        .where(Entry.project_id == member.project_id, Entry.hidden.is_(False), Entry.posted_at <= now)
        .options(selectinload(Entry.attachments).selectinload(Attachment.renditions), selectinload(Entry.author))
        .order_by(Entry.posted_at.desc(), Entry.id.desc())
    )
    if since is not None:
        query = query.where(Entry.posted_at > since)
    entries = session.scalars(query).all()
    if not entries:
        return None
    zone = project_zone(member.project)
    items: list[DigestItem] = []
    budget = MAX_IMAGES
    for entry in entries:
        item = digest_item(entry, zone, min(budget, MAX_IMAGES_PER_ENTRY))
        budget -= len(item.images)
        items.append(item)
    return DigestContent(
        project_name=member.project.name,
        recipient_name=member.name,
        recipient_email=member.email,
        access_token=member.access_token,
        items=tuple(items),
        covers_until=now,
        since=since,
        since_day=format_day(since, zone) if since else "",
        oldest=as_utc(entries[-1].posted_at),
    )


def kind_label(kind: str) -> str:
    """Name a kind for the client; plain updates carry no label."""
    if kind == "update":
        return ""
    return KIND_LABELS.get(kind, kind.replace("_", " ").capitalize())


def digest_item(entry: Entry, zone: ZoneInfo, max_images: int) -> DigestItem:
    """Describe one entry, embedding at most `max_images` of its photos and video posters."""
    images: list[DigestImage] = []
    more_photos = more_videos = 0
    for attachment in entry.attachments:
        if attachment.kind not in (Attachment.IMAGE, Attachment.VIDEO):
            continue
        is_video = attachment.kind == Attachment.VIDEO
        thumb = attachment.rendition("thumb")
        if thumb is not None and thumb.content_type.startswith("image/") and len(images) < max_images:
            images.append(DigestImage(key=thumb.sha256, is_video=is_video))
        elif is_video:
            more_videos += 1
        else:
            more_photos += 1
    author = entry.author.name if entry.author is not None else ""
    return DigestItem(
        kind=entry.kind,
        kind_label=kind_label(entry.kind),
        title=entry.title,
        excerpt=excerpt(entry.body),
        day=format_day(as_utc(entry.posted_at), zone),
        author=author,
        images=tuple(images),
        more_photos=more_photos,
        more_videos=more_videos,
    )


def email_thumbnail(data: bytes, *, is_video: bool) -> bytes:
    """Crop a thumbnail to a square JPEG for the email grid; mark a video's poster with a play button."""
    with Image.open(io.BytesIO(data)) as source:
        image = ImageOps.exif_transpose(source).convert("RGB")
    side = min(THUMB_PIXELS, image.width, image.height)
    image = ImageOps.fit(image, (side, side), method=Image.Resampling.LANCZOS)
    if is_video:
        draw_play_button(image)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=82, optimize=True, progressive=True)
    return out.getvalue()


def draw_play_button(image: Image.Image) -> None:
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    cx, cy, r = image.width / 2, image.height / 2, image.width / 7
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(0, 0, 0, 140))
    draw.polygon(
        [(cx - r * 0.35, cy - r * 0.5), (cx - r * 0.35, cy + r * 0.5), (cx + r * 0.55, cy)], fill=(255, 255, 255, 235)
    )
    image.paste(Image.alpha_composite(image.convert("RGBA"), overlay).convert("RGB"))


def embed_thumbnails(content: DigestContent, store: FileStore, domain: str) -> dict[str, tuple[str, bytes]]:
    """Prepare each distinct thumbnail once: its ref mapped to a Content-ID and JPEG bytes."""
    embedded: dict[str, tuple[str, bytes]] = {}
    for item in content.items:
        for image in item.images:
            if image.ref in embedded:
                continue
            try:
                data = email_thumbnail(store.get(image.key), is_video=image.is_video)
            except (OSError, ValueError) as exc:
                # A missing or unreadable thumbnail drops out of the email; the timeline still has it.
                log.warning("leaving thumbnail %s out of the digest: %s", image.key, exc)
                continue
            embedded[image.ref] = (make_msgid(domain=domain), data)
    return embedded


def build_digest_email(content: DigestContent, settings: Settings, store: FileStore) -> EmailMessage:
    """Build the multipart/alternative digest, its HTML part carrying the thumbnails as inline images."""
    embedded = embed_thumbnails(content, store, settings.mail_domain)
    context = {
        "content": content,
        "timeline_url": personal_link(settings.public_url, content.access_token),
        "thumbs": {ref: cid[1:-1] for ref, (cid, _data) in embedded.items()},
    }
    subject, text, html = render_email("digest", context, settings)
    recipient = Address(display_name=content.recipient_name, addr_spec=content.recipient_email)
    message = compose_email(settings, to=recipient, subject=subject, text=text, html=html)
    html_part = message.get_payload()[1]
    for number, (cid, data) in enumerate(embedded.values(), start=1):
        html_part.add_related(data, "image", "jpeg", cid=cid, disposition="inline", filename=f"photo-{number}.jpg")
    return message
