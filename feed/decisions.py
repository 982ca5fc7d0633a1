"""Decisions a client must make: opening them, answering them on the record, reminding, closing."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from feed.models import Decision, Entry, Member, utcnow
from feed.replies import APPROVED

NEEDS_ANSWER = frozenset({"decision", "variation"})
WEB = "web"
EMAIL = "email"


def needs_answer(entry: Entry) -> bool:
    return entry.kind in NEEDS_ANSWER


def open_decision(entry: Entry) -> None:
    """Attach an open decision to a new [Decision] or [Variation] entry."""
    if needs_answer(entry) and entry.decision is None:
        entry.decision = Decision(state=Decision.OPEN)


def open_decisions(session: Session, project_id: int) -> list[Decision]:
    """The project's unanswered decisions, oldest first, leaving out hidden entries."""
    query = (
        select(Decision)
        .join(Decision.entry)
        .where(Entry.project_id == project_id, Entry.hidden.is_(False), Decision.state == Decision.OPEN)
        .order_by(Decision.asked_at, Decision.id)
    )
    return list(session.scalars(query))


def find_decision(session: Session, project_id: int, entry_key: str | None) -> Decision | None:
    """The decision a reply is about: the one its email named (a bare "yes" to a digest approves nothing)."""
    if not entry_key:
        return None
    return session.scalar(
        select(Decision).join(Decision.entry).where(Entry.key == entry_key, Entry.project_id == project_id)
    )


def answer_decision(session: Session, decision: Decision, member: Member, answer: str, via: str) -> Entry | None:
    """Record the client's answer as an entry on the project; None when the decision is no longer open."""
    if not decision.is_open:
        return None
    now = utcnow()
    decision.state = answer
    decision.answered_at = now
    decision.answered_by = member
    decision.answered_via = via
    verb = "Approved" if answer == APPROVED else "Declined"
    entry = Entry(
        project_id=decision.entry.project_id,
        author=member,
        kind="answer",
        title=f"{verb}: {decision.entry.title}",
        body=f"{verb} by {member.display_name} ({'on the website' if via == WEB else 'by email'}).",
        reply_to=decision.entry,
        occurred_at=now,
        posted_at=now,
    )
    session.add(entry)
    session.flush()
    return entry


def record_message(
    session: Session, member: Member, text: str, *, about: Entry | None, via: str, inbound_id: int | None = None
) -> Entry:
    """Record a client's question or message on the project, in their words."""
    now = utcnow()
    title = f"Question about {about.title}" if about is not None else f"Message from {member.display_name}"
    entry = Entry(
        project_id=member.project_id,
        inbound_id=inbound_id,
        author=member,
        kind="message",
        title=title[:300],
        body=text,
        reply_to=about,
        occurred_at=now,
        posted_at=now,
    )
    session.add(entry)
    session.flush()
    return entry


def close_decision(decision: Decision, member: Member) -> bool:
    """Let staff close a decision that no longer needs the client; False when it was not open."""
    if not decision.is_open or not member.is_staff:
        return False
    decision.state = Decision.CLOSED
    decision.answered_at = utcnow()
    decision.answered_by = member
    decision.answered_via = WEB
    return True


def due_reminders(session: Session, now: datetime, every: timedelta) -> list[Decision]:
    """Open decisions last asked or reminded at least `every` ago."""
    cutoff = now - every
    query = (
        select(Decision)
        .join(Decision.entry)
        .where(
            Decision.state == Decision.OPEN,
            Entry.hidden.is_(False),
            or_(Decision.reminded_at <= cutoff, Decision.reminded_at.is_(None) & (Decision.asked_at <= cutoff)),
        )
        .order_by(Decision.id)
    )
    return list(session.scalars(query))
