"""The ingest job: parse an accepted message and post it to its project's timeline, once."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from redis import Redis
from rq import get_current_job
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from feed.addresses import split_address
from feed.db import transaction
from feed.entries import create_entry, store_attachments
from feed.jobs import enqueue_ingest, is_pending
from feed.models import Inbound, utcnow
from feed.parsing import ParsedEmail, kind_from_tag, parse_email
from feed.projects import staff_member
from workers.runtime import Runtime, opened_runtime

log = logging.getLogger(__name__)

# The first run and RQ's three retries (see feed.jobs.enqueue_ingest); after that it is set aside.
MAX_ATTEMPTS = 4


def ingest_message(inbound_id: int) -> str:
    """RQ job: post inbound message `inbound_id`; running it twice posts once."""
    with opened_runtime() as runtime:
        return ingest(runtime, inbound_id)


def ingest(runtime: Runtime, inbound_id: int) -> str:
    """Post the message, classify it as automated, or set it aside after the last failed try."""
    with transaction(runtime.sessions) as db:
        inbound = db.get(Inbound, inbound_id)
        if inbound is None:
            return "unknown message"
        if inbound.status != Inbound.QUEUED:
            return f"already {inbound.status}"
        inbound.attempts += 1
        attempts, spool_name, rcpt_to = inbound.attempts, inbound.spool_name, inbound.rcpt_to
        project_id, mail_from = inbound.project_id, inbound.mail_from
    try:
        parsed = parse_email(runtime.spool.read(spool_name), mail_from)
        automated = parsed.automated or ("sent to our bounce address" if project_id is None else None)
        if automated:
            return _finish(runtime, inbound_id, Inbound.AUTOMATED, _automated_reason(automated, parsed))
        with runtime.sessions() as db:
            # The gateway checked too; checked again here because nothing unchecked may ever reach a client.
            if staff_member(db, project_id, mail_from) is None:
                return _finish(runtime, inbound_id, Inbound.REFUSED, f"{mail_from or 'The empty sender'} is not staff")
        files = store_attachments(parsed, runtime.store)
        if not (parsed.titled or parsed.text or files.stored):
            reason = " ".join(["Your email had nothing to post: no subject, no note and no photos.", *files.refused])
            return _finish(runtime, inbound_id, Inbound.REFUSED, reason)
        with transaction(runtime.sessions) as db:
            inbound = db.scalar(select(Inbound).where(Inbound.id == inbound_id).with_for_update())
            if inbound is None or inbound.status != Inbound.QUEUED:
                return "already handled"
            _, tag, _ = split_address(rcpt_to)
            entry = create_entry(db, parsed, inbound, files, kind=kind_from_tag(tag) if tag else None)
            inbound.status = Inbound.POSTED
            inbound.processed_at = utcnow()
            return f"posted entry {entry.id}"
    except IntegrityError:
        # Another worker posted it at the same moment; its entry stands.
        log.info("inbound %s was posted concurrently", inbound_id)
        return "already handled"
    except Exception as exc:
        if attempts < MAX_ATTEMPTS:
            raise
        log.exception("inbound %s failed %s times; setting it aside", inbound_id, attempts)
        return _finish(runtime, inbound_id, Inbound.FAILED, f"{type(exc).__name__}: {exc}")


def _automated_reason(reason: str, parsed: ParsedEmail) -> str:
    if parsed.bounced_recipients:
        return f"{reason}; delivery failed to {', '.join(parsed.bounced_recipients)}"
    return reason


def _finish(runtime: Runtime, inbound_id: int, status: str, reason: str) -> str:
    with transaction(runtime.sessions) as db:
        inbound = db.get(Inbound, inbound_id)
        if inbound is not None and inbound.status == Inbound.QUEUED:
            inbound.status = status
            inbound.reason = reason
            inbound.processed_at = utcnow()
    return f"{status}: {reason}"


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
