"""Outgoing mail: one interface with an SMTP and a local outbox implementation, templates, common headers."""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateNotFound, select_autoescape

from feed.models import new_token
from feed.settings import TEMPLATES_DIR, Settings

log = logging.getLogger(__name__)

# Only the HTML body is escaped: subjects and plain-text bodies must show "&" as "&".
TEMPLATES = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR / "email"),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False, default=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)

SMTP_DEFAULT_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}


class MailNotSent(Exception):
    """The message was certainly not handed over, so sending it again cannot make a duplicate."""


class Mailer(Protocol):
    """Something that delivers a finished message to an envelope's recipients."""

    def send(self, message: EmailMessage, *, envelope_from: str, recipients: list[str]) -> None: ...


@dataclass(frozen=True)
class SmtpTarget:
    """Where and how to reach the outbound relay, parsed from OUTBOUND_SMTP_URL."""

    scheme: str
    host: str
    port: int
    username: str = ""
    password: str = ""

    @classmethod
    def from_url(cls, url: str) -> SmtpTarget:
        """Parse `smtp://host:port`, `smtp+starttls://user:pass@host:587` or `smtps://…`."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in SMTP_DEFAULT_PORTS or not parts.hostname:
            shape = "smtp[s|+starttls]://[user:pass@]host[:port]"
            raise ValueError(f"OUTBOUND_SMTP_URL must look like {shape}, not {url!r}")
        return cls(
            scheme=scheme,
            host=parts.hostname,
            port=parts.port or SMTP_DEFAULT_PORTS[scheme],
            username=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
        )


class SmtpMailer:
    """Hand messages to an SMTP relay, one connection per message."""

    def __init__(self, url: str, *, timeout: float = 30.0, ssl_context: ssl.SSLContext | None = None) -> None:
        self.target = SmtpTarget.from_url(url)
        self.timeout = timeout
        self.ssl_context = ssl_context or ssl.create_default_context()

    def send(self, message: EmailMessage, *, envelope_from: str, recipients: list[str]) -> None:
        """Deliver `message`; raise MailNotSent when the relay certainly did not take it."""
        try:
            smtp = self._connect()
        except (OSError, smtplib.SMTPException) as exc:
            raise MailNotSent(f"cannot reach {self.target.host}:{self.target.port}: {exc}") from exc
        try:
            refused = smtp.send_message(message, from_addr=envelope_from, to_addrs=recipients)
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
            smtp.close()
            raise MailNotSent(f"the relay refused the message: {exc}") from exc
        except BaseException:
            # Anything else (a connection dropped after DATA) is ambiguous and propagates as it is.
            smtp.close()
            raise
        if refused:
            log.warning("the relay refused some recipients of %s: %s", message["Message-ID"], refused)
        # The relay has the message: a failing QUIT must not make the caller think otherwise.
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()

    def _connect(self) -> smtplib.SMTP:
        target = self.target
        smtp: smtplib.SMTP
        if target.scheme == "smtps":
            smtp = smtplib.SMTP_SSL(target.host, target.port, timeout=self.timeout, context=self.ssl_context)
        else:
            smtp = smtplib.SMTP(target.host, target.port, timeout=self.timeout)
        try:
            smtp.ehlo()
            if target.scheme == "smtp+starttls":
                smtp.starttls(context=self.ssl_context)
                smtp.ehlo()
            if target.username:
                smtp.login(target.username, target.password)
        except BaseException:
            smtp.close()
            raise
        return smtp


class OutboxMailer:
    """Write each message as an .eml file in a folder, for local runs without a relay."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def send(self, message: EmailMessage, *, envelope_from: str, recipients: list[str]) -> None:
        """Write the message, with its envelope as leading headers, atomically into the outbox."""
        envelope = f"Return-Path: <{envelope_from}>\nX-Envelope-To: {', '.join(recipients)}\n"
        data = envelope.encode("utf-8") + message.as_bytes()
        name = f"{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}-{new_token()}.eml"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-")
        except OSError as exc:
            raise MailNotSent(f"cannot write to the outbox {self.folder}: {exc}") from exc
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.folder / name)
        except OSError as exc:
            Path(tmp).unlink(missing_ok=True)
            raise MailNotSent(f"cannot write to the outbox {self.folder}: {exc}") from exc
        log.info("wrote %s to the outbox for %s", name, ", ".join(recipients))


def make_mailer(settings: Settings) -> Mailer:
    """Use the relay in OUTBOUND_SMTP_URL when there is one, else the local outbox folder."""
    if settings.outbound_smtp_url:
        return SmtpMailer(settings.outbound_smtp_url)
    return OutboxMailer(settings.outbox_dir)


def default_sender(settings: Settings) -> Address:
    return Address(display_name=settings.sender_name, username="updates", domain=settings.mail_domain)


def stamp_message(message: EmailMessage, settings: Settings) -> EmailMessage:
    """Add the headers every message we send carries; keep a From, Date or Message-ID already set."""
    if "From" not in message:
        message["From"] = default_sender(settings)
    if "Date" not in message:
        message["Date"] = format_datetime(datetime.now(UTC))
    if "Message-ID" not in message:
        message["Message-ID"] = make_msgid(domain=settings.mail_domain)
    # Mark the mail as automatic (RFC 3834) and ask Exchange not to answer it: we never loop.
    stamps = (
        ("Auto-Submitted", "auto-generated"),
        ("X-Auto-Response-Suppress", "All"),
        ("X-Workfeed-Loop", settings.mail_domain),  # our own mail coming back is recognised by this
    )
    for name, value in stamps:
        del message[name]
        message[name] = value
    return message


def send_email(
    mailer: Mailer, message: EmailMessage, settings: Settings, *, envelope_from: str, recipients: list[str]
) -> str:
    """Stamp and send one message; return its Message-ID."""
    stamp_message(message, settings)
    mailer.send(message, envelope_from=envelope_from, recipients=recipients)
    return str(message["Message-ID"])


def render_email(name: str, context: dict[str, object], settings: Settings) -> tuple[str, str, str | None]:
    """Render templates/email/<name>/ into a one-line subject, a text body and an HTML body (None if absent)."""
    context = {"settings": settings, **context}
    subject = TEMPLATES.get_template(f"{name}/subject.txt").render(context)
    text = TEMPLATES.get_template(f"{name}/body.txt").render(context)
    try:
        html: str | None = TEMPLATES.get_template(f"{name}/body.html").render(context)
    except TemplateNotFound:
        html = None
    return " ".join(subject.split()), text, html


def compose_email(
    settings: Settings,
    *,
    to: Address | str,
    subject: str,
    text: str,
    html: str | None = None,
    sender: Address | str | None = None,
) -> EmailMessage:
    """Build a text (and HTML) message with our sender; send_email adds the remaining headers."""
    message = EmailMessage()
    message["From"] = sender or default_sender(settings)
    message["To"] = to
    message["Subject"] = subject
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message
