"""The ingest job: parse an accepted message and post it to its project's timeline, once."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.parser import BytesHeaderParser

from redis import Redis
from rq import get_current_job
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from feed.addresses import split_address
from feed.db import transaction
from feed.decisions import EMAIL, answer_decision, find_decision, record_message
from feed.entries import create_entry, store_attachments
from feed.jobs import enqueue_ingest, is_pending
from feed.keys import undo_token
from feed.kinds import apply_kind
from feed.models import Entry, Inbound, Member, Project, utcnow
from feed.notices import HELD, NOT_POSTED, NOT_STAFF, RECEIPT, NoticeContent, send_notice
from feed.parsing import ParsedEmail, kind_from_tag, parse_email
from feed.projects import personal_link, project_zone, staff_member
from feed.replies import read_answer, reply_key_of
from workers.decisions import ask_clients, decision_key_in, tell_staff
from workers.runtime import Runtime, opened_runtime

log = logging.getLogger(__name__)

# The first run and RQ's three retries (see feed.jobs.enqueue_ingest); after that it is set aside.
MAX_ATTEMPTS = 4


def ingest_message(inbound_id: int) -> str:
    """RQ job: post inbound message `inbound_id`; running it twice posts once."""
    with opened_runtime() as runtime:
        return ingest(runtime, inbound_id)


@dataclass(frozen=True)
class Claim:
    """What the job took from the inbound row before working without a transaction open."""

    inbound_id: int
    attempts: int
    spool_name: str
    rcpt_to: str
    project_id: int | None
    mail_from: str


@dataclass(frozen=True)
class Outcome:
    """How one message ended, and what its sender should be told (no notice when `notice` is empty)."""

    status: str
    reason: str = ""
    notice: str = ""
    problems: tuple[str, ...] = ()
    subject: str = ""
    entry_id: int | None = None
    summary: str = ""
    remarks: tuple[str, ...] = ()  # what was assumed, for the sender: "“Tiling” was added as a stage"


def ingest(runtime: Runtime, inbound_id: int) -> str:
    """Post the message, classify it as automated, or set it aside after the last failed try."""
    claim = _claim(runtime, inbound_id)
    if isinstance(claim, str):
        return claim
    try:
        outcome = _handle(runtime, claim)
    except IntegrityError:
        # Another worker posted it at the same moment; its entry stands.
        log.info("inbound %s was posted concurrently", inbound_id)
        return "already handled"
    except Exception as exc:
        if claim.attempts < MAX_ATTEMPTS:
            raise
        log.exception("inbound %s failed %s times; setting it aside", inbound_id, claim.attempts)
        problem = "Something went wrong on our side while posting it. It is kept safe and we will look into it."
        outcome = Outcome(Inbound.FAILED, f"{type(exc).__name__}: {exc}", NOT_POSTED, (problem,))
        _finish(runtime, inbound_id, outcome)
    _tell_sender(runtime, claim, outcome)
    return f"{outcome.status}: {outcome.reason}" if outcome.reason else f"{outcome.status} entry {outcome.entry_id}"


def _claim(runtime: Runtime, inbound_id: int) -> Claim | str:
    with transaction(runtime.sessions) as db:
        inbound = db.get(Inbound, inbound_id)
        if inbound is None:
            return "unknown message"
        if inbound.status != Inbound.QUEUED:
            return f"already {inbound.status}"
        inbound.attempts += 1
        return Claim(
            inbound_id, inbound.attempts, inbound.spool_name, inbound.rcpt_to, inbound.project_id, inbound.mail_from
        )


def _handle(runtime: Runtime, claim: Claim) -> Outcome:
    """Decide what the message is, and post it when it is an update from staff."""
    raw = runtime.spool.read(claim.spool_name)
    parsed = parse_email(raw, claim.mail_from)
    automated = (
        parsed.automated
        or ("sent to our bounce address" if claim.project_id is None else None)
        or ("our own email came back" if is_ours(parsed, runtime.settings.mail_domain) else None)
    )
    if automated:
        return _finish(runtime, claim.inbound_id, Outcome(Inbound.AUTOMATED, _automated_reason(automated, parsed)))
    if reply_key_of(claim.rcpt_to, runtime.settings.mail_domain):
        return _handle_reply(runtime, claim, parsed, raw)
    with runtime.sessions() as db:
        # The gateway checked too; checked again here because nothing unchecked may ever reach a client.
        if staff_member(db, claim.project_id, claim.mail_from) is None:
            reason = f"{claim.mail_from or 'The empty sender'} is not staff"
            return _finish(runtime, claim.inbound_id, Outcome(Inbound.REFUSED, reason, NOT_STAFF, (), parsed.subject))
    files = store_attachments(parsed, runtime.store, max_bytes=runtime.settings.max_attachment_bytes)
    if not (parsed.titled or parsed.text or files.stored):
        problems = ("It had nothing to post: no subject, no note and no photos.", *files.refused)
        outcome = Outcome(Inbound.REFUSED, " ".join(problems), NOT_POSTED, problems, parsed.subject)
        return _finish(runtime, claim.inbound_id, outcome)
    with transaction(runtime.sessions) as db:
        inbound = db.scalar(select(Inbound).where(Inbound.id == claim.inbound_id).with_for_update())
        if inbound is None or inbound.status != Inbound.QUEUED:
            return Outcome("already handled")
        _, tag, _ = split_address(claim.rcpt_to)
        entry = create_entry(db, parsed, inbound, files, kind=kind_from_tag(tag) if tag else None)
        project = db.get(Project, entry.project_id)
        local_day = entry.occurred_at.astimezone(project_zone(project, runtime.settings.default_timezone)).date()
        remarks = apply_kind(project, entry, subject=parsed.subject, today=local_day)
        outcome = Outcome(
            Inbound.POSTED, "", RECEIPT, tuple(files.notes), entry.title, entry.id, summary(entry), tuple(remarks)
        )
        asks_client = entry.decision is not None
        _settle(inbound, outcome)
    if asks_client:
        # A decision reaches the client at once, not in the next digest.
        ask_clients(runtime, entry.id)
    return outcome


def _handle_reply(runtime: Runtime, claim: Claim, parsed: ParsedEmail, raw: bytes) -> Outcome:
    """Record a client's reply: an answer to the decision it replies to, else their question or message."""
    key = reply_key_of(claim.rcpt_to, runtime.settings.mail_domain)
    headers = BytesHeaderParser().parsebytes(raw)
    references = f"{headers.get('In-Reply-To', '')} {headers.get('References', '')}"
    with transaction(runtime.sessions) as db:
        inbound = db.scalar(select(Inbound).where(Inbound.id == claim.inbound_id).with_for_update())
        if inbound is None or inbound.status != Inbound.QUEUED:
            return Outcome("already handled")
        member = db.scalar(select(Member).where(Member.reply_key == key))
        if member is None or member.email != claim.mail_from.lower():
            # Only the person the reply address was made for speaks through it.
            owner = member.email if member else "nobody"
            reason = f"a reply from {claim.mail_from or '<>'} to the reply address of {owner}; not recorded"
            return _settle(inbound, Outcome(Inbound.REFUSED, reason))
        decision = find_decision(db, member.project_id, decision_key_in(references))
        answer = read_answer(parsed.text)
        entry = None
        if answer and decision is not None and member.role == Member.CLIENT:
            entry = answer_decision(db, decision, member, answer, EMAIL)
        if entry is None:
            about = decision.entry if decision is not None else None
            entry = record_message(db, member, parsed.text or parsed.title, about=about, via=EMAIL)
        entry.inbound_id = claim.inbound_id
        outcome = _settle(inbound, Outcome(Inbound.POSTED, entry_id=entry.id))
    tell_staff(runtime, outcome.entry_id)
    return outcome


def _settle(inbound: Inbound, outcome: Outcome) -> Outcome:
    """Write the outcome on the inbound row inside the caller's transaction."""
    inbound.status = outcome.status
    inbound.reason = outcome.reason
    inbound.processed_at = utcnow()
    return outcome


def summary(entry: Entry) -> str:
    """Say what was posted, the way a receipt does: "Decision, 3 photos and 1 video"."""
    counts = Counter(attachment.kind for attachment in entry.attachments)
    parts = [
        f"{counts[kind]} {noun}{'' if counts[kind] == 1 else 's'}"
        for kind, noun in (("image", "photo"), ("video", "video"), ("document", "file"))
        if counts[kind]
    ]
    things = " and ".join([", ".join(parts[:-1]), parts[-1]] if len(parts) > 1 else parts)
    label = "an update" if entry.kind == "update" else f"a {entry.kind}"
    return f"“{entry.title}”, {label}" + (f" with {things}" if things else "")


def is_ours(parsed: ParsedEmail, mail_domain: str) -> bool:
    """Say whether this is mail we sent (our Message-IDs end in our mail domain) that came back to us."""
    return (parsed.message_id or "").lower().endswith("@" + mail_domain.lower())


def _automated_reason(reason: str, parsed: ParsedEmail) -> str:
    if parsed.bounced_recipients:
        return f"{reason}; delivery failed to {', '.join(parsed.bounced_recipients)}"
    return reason


def _finish(runtime: Runtime, inbound_id: int, outcome: Outcome) -> Outcome:
    with transaction(runtime.sessions) as db:
        inbound = db.get(Inbound, inbound_id)
        if inbound is not None and inbound.status == Inbound.QUEUED:
            inbound.status = outcome.status
            inbound.reason = outcome.reason
            inbound.processed_at = utcnow()
    return outcome


def _tell_sender(runtime: Runtime, claim: Claim, outcome: Outcome) -> None:
    """Send the sender a notice about their email when there is something to tell; never fail the job for it."""
    if not outcome.notice:
        return
    settings = runtime.settings
    local, _, _ = split_address(claim.rcpt_to)
    link = undo_link = ""
    with runtime.sessions() as db:
        staff = staff_member(db, claim.project_id, claim.mail_from) if claim.project_id else None
        entry = db.get(Entry, outcome.entry_id) if outcome.entry_id is not None else None
        if staff is not None and entry is not None:
            link = personal_link(settings.public_url, staff.access_token)
            undo_link = f"{settings.public_url}/undo/{undo_token(settings, entry.key)}"
    content = NoticeContent(
        kind=outcome.notice,
        recipient=claim.mail_from,
        project_address=f"{local}@{settings.mail_domain}",
        subject=outcome.subject,
        problems=outcome.problems,
        link=link,
        undo_link=undo_link,
        summary=outcome.summary,
        remarks=outcome.remarks,
    )
    try:
        send_notice(runtime.sessions, runtime.mailer, settings, content, claim.inbound_id)
    except Exception:
        log.exception("could not send the %s notice for inbound %s", outcome.notice, claim.inbound_id)


def report_held(inbound_id: int) -> bool:
    """Job: tell the project owner that an email claiming to be from their team was held, and why."""
    with opened_runtime() as runtime:
        settings = runtime.settings
        with runtime.sessions() as db:
            inbound = db.get(Inbound, inbound_id)
            if inbound is None or inbound.status != Inbound.HELD or inbound.project is None:
                return False
            owner = next((m for m in inbound.project.members if m.role == Member.OWNER), None)
            if owner is None:
                return False
            headers = BytesHeaderParser().parsebytes(runtime.spool.read(inbound.spool_name))
            content = NoticeContent(
                kind=HELD,
                recipient=owner.email,
                project_address=f"{inbound.project.address}@{settings.mail_domain}",
                subject=str(headers.get("Subject", "")),
                problems=(
                    f"It says it is from {inbound.mail_from or 'nobody'}, but {inbound.reason}.",
                    f"It was not posted. If it really is from your team, an admin can post it with:"
                    f" workfeed inbound retry {inbound.key}",
                ),
            )
        return send_notice(runtime.sessions, runtime.mailer, settings, content, inbound_id)


def requeue_lost() -> int:
    """Job (periodic): queue again the waiting messages whose job is gone; return how many."""
    job = get_current_job()
    assert job is not None, "requeue_lost runs as an RQ job"
    with opened_runtime() as runtime:
        # A message accepted this minute may still be on its way into the queue.
        return requeue_pending(runtime, job.connection, received_before=utcnow() - timedelta(minutes=1))


def requeue_pending(runtime: Runtime, connection: Redis, received_before: datetime | None = None) -> int:
    """Queue again every waiting message whose job is gone (Redis restarted, worker killed); return how many."""
    query = select(Inbound.id).where(Inbound.status == Inbound.QUEUED)
    if received_before is not None:
        query = query.where(Inbound.received_at < received_before)
    with runtime.sessions() as db:
        waiting = db.scalars(query).all()
    lost = [inbound_id for inbound_id in waiting if not is_pending(connection, inbound_id)]
    for inbound_id in lost:
        enqueue_ingest(connection, inbound_id)
    return len(lost)
