"""The aiosmtpd handler: refuse early and clearly, and say 250 only once the bytes are safe."""

from __future__ import annotations

import asyncio
import logging
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import compat32

from aiosmtpd.smtp import SMTP, Envelope
from aiosmtpd.smtp import Session as SMTPSession
from redis import Redis
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from feed.authentication import AuthVerdict, judge_sender
from feed.automated import automated_reason
from feed.db import transaction
from feed.jobs import enqueue_held_report, enqueue_ingest
from feed.models import Inbound
from feed.projects import staff_domains, staff_member
from feed.settings import Settings
from feed.spool import Spool
from feed.storage import sha256_hex
from gateway import replies
from gateway.routing import Route, route_recipient

log = logging.getLogger(__name__)


class GatewayHandler:
    """Routes recipients, checks senders, spools and records accepted mail, queues it for ingest."""

    def __init__(self, settings: Settings, sessions: sessionmaker[Session], redis: Redis, spool: Spool) -> None:
        self.settings = settings
        self.sessions = sessions
        self.redis = redis
        self.spool = spool

    async def handle_RCPT(
        self, server: SMTP, session: SMTPSession, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        try:
            route = await asyncio.to_thread(self._route, address)
        except Exception:
            log.exception("routing %s failed", address)
            return replies.TRY_AGAIN_LATER
        if route is None:
            return replies.REJECT_UNKNOWN_PROJECT.format(address=address)
        envelope.rcpt_tos.append(address)
        return replies.ACCEPTED_RECIPIENT

    async def handle_DATA(self, server: SMTP, session: SMTPSession, envelope: Envelope) -> str:
        # Database and disk work run in a thread: the event loop keeps serving other senders meanwhile.
        try:
            return await asyncio.to_thread(self.accept, envelope, _peer(session))
        except Exception:
            log.exception("accepting a message from %s failed", envelope.mail_from)
            return replies.TRY_AGAIN_LATER

    def _route(self, address: str) -> Route | None:
        with self.sessions() as db:
            return route_recipient(db, address, self.settings.mail_domain)

    def _judge(self, db: Session, project_id: int, headers: Message, raw: bytes, mail_from: str) -> AuthVerdict:
        """Say whether mail claiming to be from this project's staff is forged (a forgery is held, not refused)."""
        settings = self.settings
        return judge_sender(
            headers,
            envelope_from=mail_from,
            staff_domains=staff_domains(db, project_id),
            authserv_id=settings.trusted_authserv_id or None,
            raw=raw,
            verify_dkim=settings.verify_dkim,
            signed_domains=settings.dkim_signed_domains,
        )

    def accept(self, envelope: Envelope, peer: str) -> str:
        """Refuse, or spool, record and queue the message; return the SMTP reply."""
        raw = envelope.original_content or b""
        mail_from = "" if envelope.mail_from in (None, "<>") else envelope.mail_from
        headers = BytesHeaderParser(policy=compat32).parsebytes(raw)
        automated = automated_reason(headers, mail_from)
        with self.sessions() as db:
            routes = [route_recipient(db, address, self.settings.mail_domain) for address in envelope.rcpt_tos]
            if any(route is None for route in routes):
                return replies.TRY_AGAIN_LATER  # a project went away between RCPT and DATA
            key = dedupe_key(headers, raw)
            seen = already_received(db, key, [route.project_id for route in routes if route.project_id is not None])
            # Auto-replies are accepted and recorded, never refused: a refusal would answer them.
            posting = [] if automated else [r for r in routes if r.project_id is not None and not r.is_reply]
            for route in posting:
                if staff_member(db, route.project_id, mail_from) is None:
                    return replies.REJECT_NOT_STAFF.format(sender=mail_from or "An empty sender", address=route.address)
            held = {
                route.project_id: verdict.reason
                for route in posting
                if (verdict := self._judge(db, route.project_id, headers, raw, mail_from)).forged
            }
        new_routes = [route for route in routes if route.project_id not in seen]
        if not new_routes:
            return replies.ALREADY_RECEIVED.format(ref=next(iter(seen.values())))
        spool_name = self.spool.write(raw)
        try:
            with transaction(self.sessions) as db:
                inbound = [
                    Inbound(
                        project_id=route.project_id,
                        status=Inbound.HELD if route.project_id in held else Inbound.QUEUED,
                        reason=held.get(route.project_id, ""),
                        spool_name=spool_name,
                        sha256=sha256_hex(raw),
                        dedupe_key=key if route.project_id is not None else None,
                        size=len(raw),
                        mail_from=mail_from,
                        rcpt_to=route.address,
                        peer=peer,
                    )
                    for route in new_routes
                ]
                db.add_all(inbound)
        except IntegrityError:
            # The same message arrived twice at once (a retrying sender); the other copy is recorded.
            self.spool.discard(spool_name)
            with self.sessions() as db:
                seen = already_received(db, key, [route.project_id for route in new_routes])
            return replies.ALREADY_RECEIVED.format(ref=next(iter(seen.values()), "-"))
        # The message is safe on disk and recorded; a lost enqueue is picked up by the worker's sweep.
        for row in inbound:
            try:
                if row.status == Inbound.HELD:
                    enqueue_held_report(self.redis, row.id)
                else:
                    enqueue_ingest(self.redis, row.id)
            except Exception:
                log.exception("could not queue inbound %s; the sweep will pick it up", row.id)
        return replies.ACCEPTED.format(ref=inbound[0].key)


def dedupe_key(headers: Message, raw: bytes) -> str:
    """Name a message by its Message-ID, or by its bytes when it has none."""
    message_id = str(headers.get("Message-ID") or "").strip().strip("<>").strip()
    return sha256_hex(b"message-id:" + message_id.encode("utf-8", "surrogateescape")) if message_id else sha256_hex(raw)


def already_received(db: Session, key: str, project_ids: list[int]) -> dict[int, str]:
    """Map each of these projects that already has this message to the reference we gave it."""
    if not project_ids:
        return {}
    rows = db.execute(
        select(Inbound.project_id, Inbound.key).where(Inbound.dedupe_key == key, Inbound.project_id.in_(project_ids))
    )
    return {project_id: ref for project_id, ref in rows}


def _peer(session: SMTPSession) -> str:
    peer = session.peer
    if isinstance(peer, tuple):
        return f"{peer[0]}:{peer[1]}"
    return str(peer or "")
