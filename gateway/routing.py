"""Which recipient addresses we accept, and for what."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from feed.addresses import BOUNCE_LOCALPART, split_address
from feed.models import Member, Project
from feed.replies import REPLY_LOCALPART, reply_key_of


@dataclass(frozen=True)
class Route:
    """Where one recipient address leads: a project (with an optional +tag) or our bounce address."""

    address: str
    project_id: int | None
    tag: str = ""
    is_reply: bool = False  # a reply to our mail, from a client: anyone may send it, ingest judges it

    @property
    def is_bounce(self) -> bool:
        return self.project_id is None


def route_recipient(session: Session, address: str, mail_domain: str) -> Route | None:
    """Return where mail to `address` goes, or None when no project of ours uses it."""
    local, tag, domain = split_address(address)
    if not local or domain != mail_domain.lower():
        return None
    if local == BOUNCE_LOCALPART:
        return Route(address=address, project_id=None, tag=tag)
    if local == REPLY_LOCALPART:
        key = reply_key_of(address, mail_domain)
        member = session.scalar(select(Member).where(Member.reply_key == key)) if key else None
        return Route(address=address, project_id=member.project_id, is_reply=True) if member else None
    project = session.scalar(select(Project).where(Project.address == local))
    if project is None:
        return None
    return Route(address=address, project_id=project.id, tag=tag)
