"""Digest jobs: send one client's digest for a period, and every digest whose weekly slot has come."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from feed.db import transaction
from feed.digests import build_digest_email, digest_content, due_period
from feed.mail import MailNotSent, send_email, stamp_message
from feed.models import Digest, Member, Project, utcnow
from feed.projects import lock_project
from feed.replies import reply_address
from feed.settings import Settings
from workers.runtime import Runtime, opened_runtime

log = logging.getLogger(__name__)

SENT = "sent"
NOTHING_NEW = "nothing new"
ALREADY_RECORDED = "already recorded"
NOT_A_CLIENT = "not a client"
NOT_SENT = "not sent"
FAILED = "failed"


@dataclass(frozen=True)
class DigestResult:
    """What happened to one client's digest for one period."""

    member_id: int
    period: str
    status: str
    digest_id: int | None = None
    entry_count: int = 0
    detail: str = ""

    @property
    def sent(self) -> bool:
        return self.status == SENT

    def __str__(self) -> str:
        text = f"member {self.member_id}, {self.period}: {self.status}"
        if self.sent:
            text += f" (digest {self.digest_id}, {self.entry_count} entries)"
        return f"{text}: {self.detail}" if self.detail else text


def bounce_address(digest_id: int, settings: Settings) -> str:
    """Name the envelope sender so a bounce tells us which digest it belongs to."""
    return f"bounces+digest-{digest_id}@{settings.mail_domain}"


def deliver_digest(runtime: Runtime, member_id: int, period: str, now: datetime) -> DigestResult:
    """Record the member's digest for `period`, commit, then send it; do nothing if it was recorded before."""
    settings = runtime.settings
    try:
        with transaction(runtime.sessions) as session:
            if digest_exists(session, member_id, period):
                return DigestResult(member_id, period, ALREADY_RECORDED)
            member = session.get(Member, member_id)
            if member is None or member.role != Member.CLIENT:
                return DigestResult(member_id, period, NOT_A_CLIENT)
            lock_project(session, member.project_id)
            content = digest_content(session, member, now)
            if content is None:
                return DigestResult(member_id, period, NOTHING_NEW)
            message = stamp_message(build_digest_email(content, settings, runtime.store), settings)
            # A reply to the digest reaches the project as this client's message.
            message["Reply-To"] = reply_address(member.reply_key or "", settings.mail_domain)
            digest = Digest(
                member_id=member_id,
                period=period,
                covers_until=content.covers_until,
                entry_count=content.count,
                message_id=str(message["Message-ID"]),
            )
            session.add(digest)
            session.flush()
            digest_id, recipient = digest.id, member.email
    except IntegrityError:
        # Another worker recorded the same (member, period) first; it sends, we do not.
        with transaction(runtime.sessions) as session:
            if digest_exists(session, member_id, period):
                return DigestResult(member_id, period, ALREADY_RECORDED)
        raise
    # Recorded and committed before sending: a retry finds the row and never sends twice.
    try:
        envelope_from = bounce_address(digest_id, settings)
        send_email(runtime.mailer, message, settings, envelope_from=envelope_from, recipients=[recipient])
    except MailNotSent:
        # Certainly not handed over: forget the record so the next run of the schedule tries again.
        with transaction(runtime.sessions) as session:
            session.execute(delete(Digest).where(Digest.id == digest_id, Digest.sent_at.is_(None)))
        raise
    with transaction(runtime.sessions) as session:
        session.execute(update(Digest).where(Digest.id == digest_id).values(sent_at=utcnow()))
    log.info("sent digest %s (%s entries) to member %s for %s", digest_id, content.count, member_id, period)
    return DigestResult(member_id, period, SENT, digest_id, content.count)


def digest_exists(session: Session, member_id: int, period: str) -> bool:
    query = select(Digest.id).where(Digest.member_id == member_id, Digest.period == period)
    return session.scalar(query) is not None


def planned_digests(
    session: Session, now: datetime, *, project_address: str | None = None, force: bool = False
) -> list[tuple[int, str]]:
    """List (client member id, period) for every digest due at `now`, or for every client when forced."""
    query = select(Project).order_by(Project.id)
    if project_address is not None:
        query = query.where(func.lower(Project.address) == project_address.strip().lower())
    projects = session.scalars(query).all()
    if project_address is not None and not projects:
        raise LookupError(f"no project uses the address {project_address!r}")
    plan: list[tuple[int, str]] = []
    for project in projects:
        if force:
            period: str | None = f"now-{now.astimezone(UTC):%Y%m%dT%H%M%SZ}"
        else:
            try:
                period = due_period(project, now)
            except ValueError as exc:
                log.error("project %s has an unusable digest slot: %s", project.id, exc)
                continue
        if period is None:
            continue
        clients = select(Member.id).where(Member.project_id == project.id, Member.role == Member.CLIENT)
        plan.extend((member_id, period) for member_id in session.scalars(clients.order_by(Member.id)))
    return plan


def deliver_planned(
    runtime: Runtime, now: datetime, *, project_address: str | None = None, force: bool = False
) -> list[DigestResult]:
    """Send every planned digest; one client's failure is reported and never stops the others."""
    with transaction(runtime.sessions) as session:
        plan = planned_digests(session, now, project_address=project_address, force=force)
    results: list[DigestResult] = []
    for member_id, period in plan:
        try:
            results.append(deliver_digest(runtime, member_id, period, now))
        except MailNotSent as exc:
            log.warning("digest for member %s, %s not sent: %s", member_id, period, exc)
            results.append(DigestResult(member_id, period, NOT_SENT, detail=str(exc)))
        except Exception as exc:
            log.exception("digest for member %s, %s failed", member_id, period)
            results.append(DigestResult(member_id, period, FAILED, detail=f"{type(exc).__name__}: {exc}"))
    return results


def send_digests(
    settings: Settings, *, project_address: str | None = None, force: bool = False, now: datetime | None = None
) -> list[DigestResult]:
    """Send the digests due now (or, forced, to every client now), optionally for one project; for the CLI."""
    with opened_runtime(settings) as runtime:
        return deliver_planned(runtime, now or utcnow(), project_address=project_address, force=force)


def send_digest(member_id: int, period: str) -> str:
    """Job: send one client's digest for one period, at most once."""
    with opened_runtime() as runtime:
        return str(deliver_digest(runtime, member_id, period, utcnow()))


def send_due_digests(now_iso: str | None = None) -> int:
    """Job: send every digest whose weekly slot has come this week; return how many went out."""
    now = datetime.fromisoformat(now_iso) if now_iso else utcnow()
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    results = send_digests(Settings.from_env(), now=now)
    return sum(result.sent for result in results)
