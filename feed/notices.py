"""Telling a sender what happened to their email: recorded first, so each notice goes once."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from feed.db import transaction
from feed.mail import Mailer, MailNotSent, compose_email, render_email, send_email
from feed.models import Notice, utcnow
from feed.settings import Settings

log = logging.getLogger(__name__)

NOT_POSTED = "not-posted"
RECEIPT = "receipt"
NOT_STAFF = "not-staff"
HELD = "held"


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
    remarks: tuple[str, ...] = ()  # not problems, just what we assumed


def notice_key(kind: str, inbound_id: int, today: datetime) -> str:
    """Notices to people who are not staff go at most once a day; the rest once per email."""
    return today.date().isoformat() if kind == NOT_STAFF else f"inbound-{inbound_id}"


def send_once(
    sessions: sessionmaker[Session],
    mailer: Mailer,
    settings: Settings,
    message: EmailMessage,
    *,
    kind: str,
    key: str,
    inbound_id: int | None = None,
) -> bool:
    """Record that `message` goes to its recipient for (kind, key), then send it; False if it went before."""
    recipient = str(message["To"].addresses[0].addr_spec).lower()
    try:
        with transaction(sessions) as db:
            notice = Notice(recipient=recipient, kind=kind, key=key, inbound_id=inbound_id)
            db.add(notice)
            db.flush()
            notice_id = notice.id
    except IntegrityError:
        return False
    try:
        send_email(
            mailer, message, settings, envelope_from=f"bounces+notice-{notice_id}@{settings.mail_domain}",
            recipients=[recipient],
        )
    except MailNotSent:
        # Certainly not handed over: forget the record so a retry sends it.
        with transaction(sessions) as db:
            db.execute(delete(Notice).where(Notice.id == notice_id))
        raise
    with transaction(sessions) as db:
        db.get(Notice, notice_id).sent_at = utcnow()
    return True


def send_notice(
    sessions: sessionmaker[Session], mailer: Mailer, settings: Settings, content: NoticeContent, inbound_id: int
) -> bool:
    """Tell a sender about their email, once; return False when it was told before or there is nobody to tell."""
    if not content.recipient:
        return False  # nobody to tell (the null sender of a bounce)
    template = "receipt" if content.kind == RECEIPT else "notice"
    subject, text, html = render_email(template, {"notice": content}, settings)
    message = compose_email(settings, to=content.recipient, subject=subject, text=text, html=html)
    key = notice_key(content.kind, inbound_id, utcnow())
    return send_once(sessions, mailer, settings, message, kind=content.kind, key=key, inbound_id=inbound_id)
