"""Run the SMTP receiver: the aiosmtpd engine with our handler and size limit."""

from __future__ import annotations

import logging

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

from feed.db import sessionmaker_for
from feed.jobs import redis_connection
from feed.settings import MEGABYTE, Settings
from feed.spool import Spool
from gateway import replies
from gateway.handler import GatewayHandler

log = logging.getLogger(__name__)

# aiosmtpd's own wording for an oversized message; we answer in ours.
_ENGINE_SIZE_REPLIES = ("552 Error: Too much mail data", "552 Error: message size exceeds")


def _megabytes(size: int) -> str:
    """Say a size the way a person reads it: 40, 2.5, 0.2."""
    value = size / MEGABYTE
    return f"{value:.0f}" if value >= 10 else f"{max(value, 0.1):.1f}".removesuffix(".0")


class GatewaySMTP(SMTP):
    """aiosmtpd's protocol engine, answering an oversized message in plain words."""

    async def push(self, status: str) -> None:
        if status.startswith(_ENGINE_SIZE_REPLIES) and self.data_size_limit:
            status = replies.REJECT_TOO_BIG.format(megabytes=_megabytes(self.data_size_limit))
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
