"""Turning a parsed email into a timeline entry with its stored attachments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from feed.decisions import open_decision
from feed.media import ProcessedMedia, forbidden_reason, process_media
from feed.models import Attachment, Entry, Inbound, Member, Rendition, utcnow
from feed.parsing import ParsedAttachment, ParsedEmail
from feed.progress import split_internal
from feed.projects import lock_project
from feed.settings import megabytes
from feed.storage import FileStore

# A phone's clock can be wrong; a Date this far from our own receipt time is not believed.
CLOCK_SLACK = timedelta(hours=1)
OLDEST_BELIEVED = timedelta(days=30)


@dataclass(frozen=True)
class StoredAttachment:
    """An attachment whose original and renditions are already in the store."""

    parsed: ParsedAttachment
    media: ProcessedMedia
    original_key: str
    rendition_keys: tuple[str, ...]


@dataclass(frozen=True)
class PreparedFiles:
    """The attachments ready to post, and a sentence for each one that was not."""

    stored: list[StoredAttachment]
    refused: list[str]

    @property
    def notes(self) -> list[str]:
        return self.refused + [item.media.note for item in self.stored if item.media.note]


def store_attachments(parsed: ParsedEmail, store: FileStore, *, max_bytes: int | None = None) -> PreparedFiles:
    """Store every allowed original and make its renditions; slow work done before any transaction opens."""
    stored, refused = [], []
    for attachment in parsed.attachments:
        if attachment.staff_only:
            continue  # e.g. the winmail.dat whose files were unpacked: it stays in the spooled original
        reason = forbidden_reason(attachment.filename, attachment.payload) or too_large_reason(
            attachment.filename, len(attachment.payload), max_bytes
        )
        if reason:
            refused.append(reason)
            continue
        media = process_media(attachment.filename, attachment.content_type, attachment.payload)
        stored.append(
            StoredAttachment(
                parsed=attachment,
                media=media,
                original_key=store.put(attachment.payload),
                rendition_keys=tuple(store.put(r.data) for r in media.renditions),
            )
        )
    return PreparedFiles(stored, refused)


def too_large_reason(filename: str, size: int, max_bytes: int | None) -> str | None:
    """Say why a file is too big to post on its own, or None."""
    if max_bytes is None or size <= max_bytes:
        return None
    return (
        f"{filename or 'An attachment'} ({megabytes(size)} MB) was not posted: one file can be at most"
        f" {megabytes(max_bytes)} MB. Send a shorter video or a smaller file."
    )


def occurred_at(parsed: ParsedEmail, received_at: datetime) -> datetime:
    """When the update happened: the email's Date when it is believable, else when we received it."""
    sent = parsed.sent_at
    if sent is None or sent > received_at + CLOCK_SLACK or sent < received_at - OLDEST_BELIEVED:
        return received_at
    return sent


def create_entry(
    session: Session, parsed: ParsedEmail, inbound: Inbound, files: PreparedFiles, *, kind: str | None = None
) -> Entry:
    """Add the entry and its attachments for `inbound`; the caller commits."""
    lock_project(session, inbound.project_id)
    author = session.scalar(
        select(Member).where(Member.project_id == inbound.project_id, Member.email == inbound.mail_from.lower())
    )
    if author is not None and not author.name and parsed.from_address == author.email and parsed.from_name:
        author.name = parsed.from_name  # "Dan Mercer" reads better on the timeline than an address
    # Everything after an [internal] line is for staff only: never on a page or in an email to a client.
    client_text, internal = split_internal(parsed.text)
    entry = Entry(
        project_id=inbound.project_id,
        inbound_id=inbound.id,
        author_id=author.id if author else None,
        kind=kind or parsed.kind,
        title=parsed.title,
        body=client_text,
        internal=internal,
        quoted=parsed.quoted,
        notes="\n".join(files.notes),
        occurred_at=occurred_at(parsed, inbound.received_at),
        posted_at=utcnow(),
    )
    for position, item in enumerate(files.stored):
        media = item.media
        attachment = Attachment(
            position=position,
            kind=media.kind,
            filename=item.parsed.filename,
            content_type=media.content_type,
            size=len(item.parsed.payload),
            sha256=item.original_key,
            width=media.width,
            height=media.height,
        )
        attachment.renditions = [
            Rendition(
                name=rendition.name,
                sha256=key,
                content_type=rendition.content_type,
                size=len(rendition.data),
                width=rendition.width,
                height=rendition.height,
            )
            for rendition, key in zip(media.renditions, item.rendition_keys, strict=True)
        ]
        entry.attachments.append(attachment)
    open_decision(entry)
    session.add(entry)
    session.flush()
    return entry
