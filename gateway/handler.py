"""The aiosmtpd handler: refuse early and clearly, and say 250 only once the bytes are safe."""

from __future__ import annotations

import asyncio
import logging
from email.parser import BytesHeaderParser
from email.policy import compat32

from aiosmtpd.smtp import SMTP, Envelope
from aiosmtpd.smtp import Session as SMTPSession
from redis import Redis
from sqlalchemy.orm import Session, sessionmaker

from feed.automated import automated_reason
from feed.db import transaction
from feed.jobs import enqueue_ingest
from feed.models import Inbound
from feed.projects import staff_member
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
            if not automated:
                # Auto-replies are accepted and recorded, never refused: a refusal would answer them.
                for route in routes:
                    if route.project_id is not None and staff_member(db, route.project_id, mail_from) is None:
                        return replies.REJECT_NOT_STAFF.format(
                            sender=mail_from or "An empty sender", project=route.project_name
                        )
        spool_name = self.spool.write(raw)
        with transaction(self.sessions) as db:
            inbound = [
                Inbound(
                    project_id=route.project_id,
                    spool_name=spool_name,
                    sha256=sha256_hex(raw),
                    size=len(raw),
                    mail_from=mail_from,
                    rcpt_to=route.address,
                    peer=peer,
                )
                for route in routes
                if route is not None
            ]
            db.add_all(inbound)
        # The message is safe on disk and recorded; a lost enqueue is picked up by the worker's sweep.
        for row in inbound:
            try:
                enqueue_ingest(self.redis, row.id)
            except Exception:
                log.exception("could not queue inbound %s; the sweep will pick it up", row.id)
        return replies.ACCEPTED.format(ref=inbound[0].key)


def _peer(session: SMTPSession) -> str:
    peer = session.peer
    if isinstance(peer, tuple):
        return f"{peer[0]}:{peer[1]}"
    return str(peer or "")
