"""Decision mail: ask the clients at once, remind them, and tell staff what a client answered or asked."""

from __future__ import annotations

import logging
import re
import secrets
from datetime import UTC, datetime, timedelta

from feed.db import transaction
from feed.decisions import due_reminders
from feed.mail import compose_email, render_email
from feed.models import Decision, Entry, Member, utcnow
from feed.notices import send_once
from feed.projects import personal_link
from feed.replies import APPROVED, DECLINED, reply_address
from workers.runtime import Runtime, opened_runtime

log = logging.getLogger(__name__)

# Our decision emails carry the entry's key in their Message-ID, so a reply's In-Reply-To names the decision.
DECISION_MESSAGE_ID = re.compile(r"<decision\.([A-Za-z0-9_-]+)\.[A-Za-z0-9_-]+@")


def decision_key_in(references: str) -> str | None:
    """Find the decision a reply answers, from its In-Reply-To or References header."""
    found = DECISION_MESSAGE_ID.findall(references or "")
    return found[-1] if found else None


def ask_clients(runtime: Runtime, entry_id: int, *, reminder: bool = False, now: datetime | None = None) -> int:
    """Email every client of the project the decision at once (or a reminder); return how many were sent."""
    settings = runtime.settings
    now = now or utcnow()
    with runtime.sessions() as db:
        entry = db.get(Entry, entry_id)
        if entry is None or entry.hidden or entry.decision is None or not entry.decision.is_open:
            return 0
        clients = [m for m in entry.project.members if m.role == Member.CLIENT]
        messages = []
        for client in clients:
            subject, text, html = render_email(
                "decision",
                {
                    "reminder": reminder,
                    "kind": entry.kind,
                    "project_name": entry.project.name,
                    "client_name": client.name.split(" ")[0] if client.name else "there",
                    "author": entry.author.display_name if entry.author else entry.project.name,
                    "title": entry.title,
                    "body": entry.body,
                    "link": personal_link(settings.public_url, client.access_token),
                },
                settings,
            )
            message = compose_email(settings, to=client.email, subject=subject, text=text, html=html)
            message["Reply-To"] = reply_address(client.reply_key or "", settings.mail_domain)
            message["Message-ID"] = f"<decision.{entry.key}.{secrets.token_hex(6)}@{settings.mail_domain}>"
            messages.append(message)
        kind, key = ("decision-reminder", f"{entry.key}-{now:%Y%m%d%H}") if reminder else ("decision", entry.key)
    return sum(send_once(runtime.sessions, runtime.mailer, settings, m, kind=kind, key=key) for m in messages)


def tell_staff(runtime: Runtime, entry_id: int) -> int:
    """Email the project's staff what a client just answered or asked; return how many were sent."""
    settings = runtime.settings
    with runtime.sessions() as db:
        entry = db.get(Entry, entry_id)
        if entry is None or entry.author is None:
            return 0
        client = entry.author
        decision = entry.reply_to.decision if entry.reply_to is not None else None
        if entry.kind == "answer" and decision is not None:
            verb = {APPROVED: "approved", DECLINED: "declined"}.get(decision.state, decision.state)
            headline = f"{client.display_name} {verb}: {entry.reply_to.title}"
            how = "on the website" if decision.answered_via == "web" else "by email"
            body = ""
        else:
            about = f" about {entry.reply_to.title}" if entry.reply_to is not None else ""
            headline = f"{client.display_name} asked{about}" if entry.reply_to else f"{client.display_name} wrote"
            how = "by email" if entry.inbound_id else "on the website"
            body = entry.body
        when = entry.posted_at.astimezone(UTC).strftime("%d %b %Y %H:%M UTC")
        messages = []
        for staff in (m for m in entry.project.members if m.is_staff):
            context = {
                "project_name": entry.project.name,
                "headline": headline,
                "body": body,
                "when": when,
                "how": how,
                "link": personal_link(settings.public_url, staff.access_token),
            }
            subject, text, html = render_email("staff_alert", context, settings)
            messages.append(compose_email(settings, to=staff.email, subject=subject, text=text, html=html))
        key = entry.key
    return sum(send_once(runtime.sessions, runtime.mailer, settings, m, kind="staff-alert", key=key) for m in messages)


def remind(runtime: Runtime, now: datetime) -> int:
    """Remind the clients of every decision unanswered for DECISION_REMINDER_HOURS; return how many."""
    every = timedelta(hours=runtime.settings.decision_reminder_hours)
    with transaction(runtime.sessions) as db:
        due = [(d.id, d.entry_id) for d in due_reminders(db, now, every)]
    for decision_id, entry_id in due:
        ask_clients(runtime, entry_id, reminder=True, now=now)
        with transaction(runtime.sessions) as db:
            db.get(Decision, decision_id).reminded_at = now
    return len(due)


def tell_staff_job(entry_id: int) -> int:
    """Job: tell staff about a client's answer or question."""
    with opened_runtime() as runtime:
        return tell_staff(runtime, entry_id)


def remind_open_decisions(now_iso: str | None = None) -> int:
    """Job (periodic): remind clients of decisions still unanswered (every 72 hours by default)."""
    now = datetime.fromisoformat(now_iso) if now_iso else utcnow()
    with opened_runtime() as runtime:
        return remind(runtime, now)
