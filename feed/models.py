"""The tables: projects and their people, inbound mail, timeline entries, media, digests."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_token() -> str:
    """An unguessable id for anything that appears in a URL (144 random bits)."""
    return secrets.token_urlsafe(18)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always aware and in UTC, on SQLite (which keeps no zone) as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Project(Base):
    __tablename__ = "project"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(32), unique=True, default=new_token)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(64), unique=True)
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/London")
    # Weekly digest slot in the project's time zone: Monday=0 … Sunday=6.
    digest_weekday: Mapped[int] = mapped_column(Integer, default=4)
    digest_time: Mapped[str] = mapped_column(String(5), default="16:00")
    trade: Mapped[str] = mapped_column(String(32), default="renovation", server_default="renovation")
    # The ordered stage names, one per line (a template per trade, then whatever [Stage] emails add).
    stage_list: Mapped[str] = mapped_column(Text, default="", server_default="")
    current_stage: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    members: Mapped[list[Member]] = relationship(back_populates="project", cascade="all, delete-orphan")
    entries: Mapped[list[Entry]] = relationship(back_populates="project")
    key_dates: Mapped[list[KeyDate]] = relationship(order_by="KeyDate.day", cascade="all, delete-orphan")

    @property
    def stages(self) -> tuple[str, ...]:
        return tuple(line for line in self.stage_list.splitlines() if line.strip())

    @stages.setter
    def stages(self, names: tuple[str, ...] | list[str]) -> None:
        self.stage_list = "\n".join(names)


class Member(Base):
    """A person on a project: the owner, other staff, or a client."""

    __tablename__ = "member"
    __table_args__ = (UniqueConstraint("project_id", "email"),)

    OWNER = "owner"
    STAFF = "staff"
    CLIENT = "client"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"), index=True)
    email: Mapped[str] = mapped_column(String(320), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(16))
    # The secret in a client's personal link; staff have one too for later use.
    access_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_token)
    # The key in this person's reply address (reply+<key>@MAIL_DOMAIN): says who answers, for which project.
    reply_key: Mapped[str | None] = mapped_column(String(32), unique=True, default=new_token)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    project: Mapped[Project] = relationship(back_populates="members")

    @property
    def is_staff(self) -> bool:
        return self.role in (self.OWNER, self.STAFF)

    @property
    def display_name(self) -> str:
        return self.name or self.email


class Inbound(Base):
    """One accepted message for one project (or for our bounce address), from spool to timeline."""

    __tablename__ = "inbound"
    # A sender that retries after losing our 250 sends the same message again: one row per project.
    __table_args__ = (UniqueConstraint("project_id", "dedupe_key"),)

    QUEUED = "queued"
    POSTED = "posted"
    AUTOMATED = "automated"
    REFUSED = "refused"
    HELD = "held"  # the sender looked forged: kept, not posted, the owner told
    FAILED = "failed"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(32), unique=True, default=new_token)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("project.id"), index=True)
    spool_name: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    dedupe_key: Mapped[str | None] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    mail_from: Mapped[str] = mapped_column(String(320))
    rcpt_to: Mapped[str] = mapped_column(String(320))
    peer: Mapped[str] = mapped_column(String(100), default="")
    status: Mapped[str] = mapped_column(String(16), default=QUEUED, index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    project: Mapped[Project | None] = relationship()


class Entry(Base):
    """One post on a project's timeline."""

    __tablename__ = "entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(32), unique=True, default=new_token)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"), index=True)
    # One inbound message posts at most one entry: this is what makes ingest idempotent.
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound.id"), unique=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    kind: Mapped[str] = mapped_column(String(16), default="update")
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    quoted: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    # Lines after "[internal]": kept for staff, never shown or sent to a client.
    internal: Mapped[str] = mapped_column(Text, default="")
    # A client's answer or question points at the entry it answers.
    reply_to_id: Mapped[int | None] = mapped_column(ForeignKey("entry.id"))
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    project: Mapped[Project] = relationship(back_populates="entries")
    author: Mapped[Member | None] = relationship()
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="entry", order_by="Attachment.position", cascade="all, delete-orphan"
    )
    decision: Mapped[Decision | None] = relationship(back_populates="entry", cascade="all, delete-orphan")
    reply_to: Mapped[Entry | None] = relationship(remote_side=[id])


class Decision(Base):
    """What a [Decision] or [Variation] entry asks of the client, and how it was answered."""

    __tablename__ = "decision"

    OPEN = "open"
    APPROVED = "approved"
    DECLINED = "declined"
    CLOSED = "closed"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entry.id"), unique=True)
    state: Mapped[str] = mapped_column(String(16), default=OPEN, index=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("member.id"))
    answered_via: Mapped[str] = mapped_column(String(16), default="")
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # What a variation changes, when its email says: extra cost (negative: a credit) and days.
    cost: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    currency: Mapped[str] = mapped_column(String(3), default="", server_default="")
    days: Mapped[int | None] = mapped_column(Integer)

    entry: Mapped[Entry] = relationship(back_populates="decision")
    answered_by: Mapped[Member | None] = relationship()

    @property
    def is_open(self) -> bool:
        return self.state == self.OPEN


class KeyDate(Base):
    """A date the client plans around (a delivery, the handover), moved by [Delay] emails."""

    __tablename__ = "key_date"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    day: Mapped[date] = mapped_column(Date)
    previous_day: Mapped[date | None] = mapped_column(Date)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("entry.id"))


class Attachment(Base):
    """A file posted with an entry: a photo, a video or a document."""

    __tablename__ = "attachment"

    IMAGE = "image"
    VIDEO = "video"
    DOCUMENT = "document"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(32), unique=True, default=new_token)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entry.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[str] = mapped_column(String(16))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)

    entry: Mapped[Entry] = relationship(back_populates="attachments")
    renditions: Mapped[list[Rendition]] = relationship(back_populates="attachment", cascade="all, delete-orphan")

    def rendition(self, name: str) -> Rendition | None:
        return next((r for r in self.renditions if r.name == name), None)


class Rendition(Base):
    """A derived file that is safe to serve: a resized photo, a thumbnail, a poster, a clean video."""

    __tablename__ = "rendition"
    __table_args__ = (UniqueConstraint("attachment_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attachment_id: Mapped[int] = mapped_column(ForeignKey("attachment.id"), index=True)
    name: Mapped[str] = mapped_column(String(16))
    sha256: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)

    attachment: Mapped[Attachment] = relationship(back_populates="renditions")


class Digest(Base):
    """A digest email to one client about one project for one period, recorded before it is sent."""

    __tablename__ = "digest"
    __table_args__ = (UniqueConstraint("member_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"), index=True)
    period: Mapped[str] = mapped_column(String(64))
    covers_until: Mapped[datetime] = mapped_column(UTCDateTime())
    entry_count: Mapped[int] = mapped_column(Integer, default=0)
    message_id: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    member: Mapped[Member] = relationship()


class Notice(Base):
    """A notice we sent (or are sending) to a person about their email, recorded first so it goes once."""

    __tablename__ = "notice"
    # The key is the inbound message for a notice about one email, or the day for "once a day at most".
    __table_args__ = (UniqueConstraint("recipient", "kind", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(String(320))
    kind: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(64))
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
