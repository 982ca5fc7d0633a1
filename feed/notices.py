"""Telling a sender what happened to their email: recorded first, so each notice goes once."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from feed.db import transaction
from feed.mail import Mailer, compose_email, render_email, send_email
from feed.models import Notice, utcnow
from feed.settings import Settings

log = logging.getLogger(__name__)

NOT_POSTED = "not-posted"
RECEIPT = "receipt"
NOT_STAFF = "not-staff"


@dataclass(frozen=True)
class NoticeContent:
    """What one notice says: which email, what happened, and the sentences that explain it."""

    kind: str
    recipient: str
    project_address: str
    subject: str
    problems: tuple[str, ...]
    link: str = ""
    undo_link: str = ""
    summary: str = ""  # what was posted: "Decision, 3 photos and 1 video"


def notice_key(kind: str, inbound_id: int, today: datetime) -> str:
    """Notices to people who are not staff go at most once a day; the rest once per email."""
    return today.date().isoformat() if kind == NOT_STAFF else f"inbound-{inbound_id}"


def send_notice(
    sessions: sessionmaker[Session], mailer: Mailer, settings: Settings, content: NoticeContent, inbound_id: int
) -> bool:
    """Record the notice, then send it; return False when an equal notice was already sent."""
    if not content.recipient:
        return False  # nobody to tell (the null sender of a bounce)
    try:
        with transaction(sessions) as db:
            notice = Notice(
                recipient=content.recipient.lower(),
                kind=content.kind,
                key=notice_key(content.kind, inbound_id, utcnow()),
                inbound_id=inbound_id,
            )
            db.add(notice)
            db.flush()
            notice_id = notice.id
    except IntegrityError:
        return False
    template = "receipt" if content.kind == RECEIPT else "notice"
    subject, text, html = render_email(template, {"notice": content}, settings)
    message = compose_email(settings, to=content.recipient, subject=subject, text=text, html=html)
    send_email(
        mailer,
        message,
        settings,
        envelope_from=f"bounces+notice-{notice_id}@{settings.mail_domain}",
        recipients=[content.recipient],
    )
    with transaction(sessions) as db:
        db.get(Notice, notice_id).sent_at = utcnow()
    return True
