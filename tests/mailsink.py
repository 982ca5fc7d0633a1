"""A real SMTP server on localhost that keeps what it receives, for tests of outgoing mail."""

from __future__ import annotations

import socket
import ssl
import threading
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session


@dataclass(frozen=True)
class ReceivedMail:
    """One message as the sink took it: the envelope and the parsed message."""

    envelope_from: str
    recipients: list[str]
    message: EmailMessage
    raw: bytes


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SinkHandler:
    """Accept every message, unless a recipient is on the refuse list."""

    def __init__(self) -> None:
        self.received: list[ReceivedMail] = []
        self.refuse: set[str] = set()
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session: Session, envelope: Envelope, address: str, options) -> str:
        if address.lower() in self.refuse:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session: Session, envelope: Envelope) -> str:
        raw = bytes(envelope.original_content or envelope.content)
        # Stored the way a local delivery agent would: with plain newlines.
        message = BytesParser(policy=policy.default).parsebytes(raw.replace(b"\r\n", b"\n"))
        with self.lock:
            self.received.append(ReceivedMail(str(envelope.mail_from), list(envelope.rcpt_tos), message, raw))
        return "250 2.0.0 Message accepted"


class MailSink:
    """An aiosmtpd server on 127.0.0.1 and a free port; `messages` lists what arrived."""

    def __init__(self, *, login: tuple[str, str] | None = None, tls_context: ssl.SSLContext | None = None) -> None:
        self.handler = SinkHandler()
        self.login = login
        self.port = free_port()
        options: dict[str, object] = {}
        if login is not None:
            options.update(authenticator=self._authenticate, auth_required=True)
            options.update(auth_require_tls=tls_context is not None)
        if tls_context is not None:
            options.update(tls_context=tls_context, require_starttls=True)
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, **options)
        self.logins: list[str] = []

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def messages(self) -> list[ReceivedMail]:
        with self.handler.lock:
            return list(self.handler.received)

    def refuse(self, address: str) -> None:
        self.handler.refuse.add(address.lower())

    def accept_all(self) -> None:
        self.handler.refuse.clear()

    def start(self) -> MailSink:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def _authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        if isinstance(auth_data, LoginPassword) and self.login is not None:
            given = (auth_data.login.decode(), auth_data.password.decode())
            if given == self.login:
                self.logins.append(given[0])
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)
