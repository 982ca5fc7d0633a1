"""What the gateway accepted, for admins: list it, and give a set-aside message another go."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from feed.models import Inbound


class UnknownInbound(LookupError):
    """No accepted message has that id or reference."""


def list_inbound(session: Session, *, status: str | None = None, limit: int = 50) -> list[Inbound]:
    """The newest accepted messages, optionally only those with one status."""
    query = select(Inbound).order_by(Inbound.id.desc()).limit(limit)
    if status:
        query = query.where(Inbound.status == status)
    return list(session.scalars(query))


def find_inbound(session: Session, ref: str) -> Inbound:
    """Find a message by its number or by the reference the gateway gave the sender."""
    conditions = [Inbound.key == ref]
    if ref.isdigit():
        conditions.append(Inbound.id == int(ref))
    inbound = session.scalar(select(Inbound).where(or_(*conditions)))
    if inbound is None:
        raise UnknownInbound(f"no accepted message has the number or reference {ref!r}")
    return inbound


def reopen_inbound(session: Session, ref: str) -> Inbound:
    """Put a set-aside (or refused) message back in line; the caller queues it after commit."""
    inbound = find_inbound(session, ref)
    if inbound.status == Inbound.POSTED:
        raise ValueError(f"message {inbound.id} is already posted")
    inbound.status = Inbound.QUEUED
    inbound.attempts = 0
    inbound.reason = ""
    inbound.processed_at = None
    return inbound
