"""Run the SMTP receiver: the aiosmtpd engine with our handler and size limit."""

from __future__ import annotations

import logging
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

from feed.db import sessionmaker_for
from feed.jobs import redis_connection
from feed.settings import Settings, megabytes
from feed.spool import Spool
from gateway import replies
from gateway.handler import GatewayHandler

log = logging.getLogger(__name__)

# aiosmtpd's own wording for an oversized message; we answer in ours.
_ENGINE_SIZE_REPLIES = ("552 Error: Too much mail data", "552 Error: message size exceeds")


class GatewaySMTP(SMTP):
    """aiosmtpd's protocol engine, taking long lines and answering an oversized message in plain words."""

    def __init__(self, handler: GatewayHandler, **kwargs: Any) -> None:
        # RFC 5321 caps lines at 1000 bytes, but phones and webmail send longer ones (minified HTML,
        # unwrapped base64); refusing them would bounce real updates, so only the message size is limited.
        self.line_length_limit = max(SMTP.line_length_limit, (kwargs.get("data_size_limit") or 0) + 2)
        super().__init__(handler, **kwargs)

    async def push(self, status: str) -> None:
        if status.startswith(_ENGINE_SIZE_REPLIES) and self.data_size_limit:
            status = replies.REJECT_TOO_BIG.format(megabytes=megabytes(self.data_size_limit))
        await super().push(status)


class GatewayController(Controller):
    """aiosmtpd's threaded controller, serving our SMTP subclass with the configured size limit."""

    def __init__(self, handler: GatewayHandler, settings: Settings) -> None:
        super().__init__(
            handler,
            hostname=settings.gateway_host,
            port=settings.gateway_port,
            server_hostname=settings.mail_domain,
            data_size_limit=settings.max_message_bytes,
            ident="workfeed",
        )

    def factory(self) -> SMTP:
        return GatewaySMTP(self.handler, **self.SMTP_kwargs)


def build_gateway(settings: Settings) -> GatewayController:
    """Wire the handler to the database, the spool and Redis; the caller starts and stops it."""
    spool = Spool(settings.spool_dir)
    handler = GatewayHandler(settings, sessionmaker_for(settings), redis_connection(settings.redis_url), spool)
    return GatewayController(handler, settings)


def serve(settings: Settings) -> None:
    """Run the receiver until SIGINT or SIGTERM."""
    import signal
    import threading

    controller = build_gateway(settings)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    controller.start()
    log.info("SMTP gateway listening on %s:%s", settings.gateway_host, settings.gateway_port)
    try:
        stop.wait()
    finally:
        controller.stop()
