"""Outgoing mail: the relay over real SMTP, the local outbox, the common headers, the templates."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser

import pytest

from feed.digests import DigestContent, DigestItem
from feed.mail import (
    MailNotSent,
    OutboxMailer,
    SmtpMailer,
    SmtpTarget,
    compose_email,
    make_mailer,
    render_email,
    send_email,
)
from tests.conftest import absent
from tests.mailsink import MailSink, free_port


@pytest.fixture
def message(settings):
    return compose_email(
        settings, to="Sarah <sarah@client.example>", subject="Hello", text="Plain words.\n", html="<p>Rich words.</p>"
    )


def test_send_email_stamps_our_headers(settings, message, mail_sink):
    message_id = send_email(
        SmtpMailer(mail_sink.url),
        message,
        settings,
        envelope_from="bounces@updates.example.com",
        recipients=["sarah@client.example"],
    )

    [mail] = mail_sink.messages
    received = mail.message
    assert (mail.envelope_from, mail.recipients) == ("bounces@updates.example.com", ["sarah@client.example"])
    assert received["Auto-Submitted"] == "auto-generated"
    assert received["Message-ID"] == message_id and message_id.endswith("@updates.example.com>")
    assert received["Date"].datetime.tzinfo is not None
    assert str(received["From"]) == "Project updates <updates@updates.example.com>"
    assert received.get_body(("plain",)).get_content() == "Plain words.\n"
    assert "Rich words." in received.get_body(("html",)).get_content()


def test_send_email_keeps_a_given_sender_and_message_id(settings, mail_sink):
    message = compose_email(
        settings, to="sarah@client.example", subject="Hi", text="x\n", sender="Holloway <holloway@updates.example.com>"
    )
    message["Message-ID"] = "<fixed@updates.example.com>"
    message["Auto-Submitted"] = "no"

    send_email(
        SmtpMailer(mail_sink.url),
        message,
        settings,
        envelope_from="b@updates.example.com",
        recipients=["sarah@client.example"],
    )

    received = mail_sink.messages[0].message
    assert str(received["From"]) == "Holloway <holloway@updates.example.com>"
    assert received["Message-ID"] == "<fixed@updates.example.com>"
    assert received.get_all("Auto-Submitted") == ["auto-generated"]


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_smtp_mailer_logs_in_with_credentials_from_the_url(settings, message):
    sink = MailSink(login=("relay-user", "p@ss/word")).start()
    try:
        SmtpMailer(f"smtp://relay-user:p%40ss%2Fword@127.0.0.1:{sink.port}").send(
            message, envelope_from="b@updates.example.com", recipients=["sarah@client.example"]
        )
        with pytest.raises(MailNotSent):
            SmtpMailer(f"smtp://relay-user:wrong@127.0.0.1:{sink.port}").send(
                message, envelope_from="b@updates.example.com", recipients=["sarah@client.example"]
            )
    finally:
        sink.stop()
    assert sink.logins == ["relay-user"] and len(sink.messages) == 1


def test_smtp_mailer_upgrades_with_starttls(tmp_path, message):
    if shutil.which("openssl") is None:
        absent("openssl is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    sink = MailSink(login=("relay-user", "secret"), tls_context=server_context).start()
    try:
        client_context = ssl.create_default_context(cafile=str(cert))
        SmtpMailer(f"smtp+starttls://relay-user:secret@127.0.0.1:{sink.port}", ssl_context=client_context).send(
            message, envelope_from="b@updates.example.com", recipients=["sarah@client.example"]
        )
        with pytest.raises(MailNotSent):  # without STARTTLS this sink refuses to go on
            SmtpMailer(f"smtp://relay-user:secret@127.0.0.1:{sink.port}").send(
                message, envelope_from="b@updates.example.com", recipients=["sarah@client.example"]
            )
    finally:
        sink.stop()
    assert len(sink.messages) == 1 and sink.logins == ["relay-user"]


def test_refused_recipient_is_reported_as_not_sent(message, mail_sink):
    mail_sink.refuse("gone@client.example")

    with pytest.raises(MailNotSent, match="refused"):
        SmtpMailer(mail_sink.url).send(
            message, envelope_from="b@updates.example.com", recipients=["gone@client.example"]
        )
    assert mail_sink.messages == []


def test_unreachable_relay_is_reported_as_not_sent(message):
    with pytest.raises(MailNotSent, match="cannot reach"):
        SmtpMailer(f"smtp://127.0.0.1:{free_port()}", timeout=5).send(
            message, envelope_from="b@updates.example.com", recipients=["sarah@client.example"]
        )


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://relay.example.com", SmtpTarget("smtp", "relay.example.com", 25)),
        (
            "smtp+starttls://me:s%3Acret@relay.example.com",
            SmtpTarget("smtp+starttls", "relay.example.com", 587, "me", "s:cret"),
        ),
        ("smtps://relay.example.com:2465", SmtpTarget("smtps", "relay.example.com", 2465)),
    ],
)
def test_smtp_url_names_scheme_host_port_and_login(url, expected):
    assert SmtpTarget.from_url(url) == expected


@pytest.mark.parametrize("url", ["http://relay.example.com", "smtp://", "relay.example.com:25"])
def test_smtp_url_that_is_not_smtp_is_refused(url):
    with pytest.raises(ValueError, match="OUTBOUND_SMTP_URL"):
        SmtpTarget.from_url(url)


def test_outbox_mailer_writes_a_readable_eml(settings, message):
    outbox = OutboxMailer(settings.outbox_dir)

    send_email(
        outbox,
        message,
        settings,
        envelope_from="bounces+digest-7@updates.example.com",
        recipients=["sarah@client.example"],
    )

    [written] = list(settings.outbox_dir.iterdir())
    assert written.suffix == ".eml"
    parsed = BytesParser(policy=policy.default).parsebytes(written.read_bytes())
    assert parsed["Return-Path"] == "<bounces+digest-7@updates.example.com>"
    assert parsed["X-Envelope-To"] == "sarah@client.example"
    assert parsed["Subject"] == "Hello" and parsed["Auto-Submitted"] == "auto-generated"
    assert parsed.get_body(("plain",)).get_content() == "Plain words.\n"


def test_make_mailer_uses_the_relay_when_configured(settings, mail_sink):
    assert isinstance(make_mailer(settings), OutboxMailer)
    assert make_mailer(settings).folder == settings.outbox_dir
    relay = make_mailer(settings.with_changes(outbound_smtp_url=mail_sink.url))
    assert isinstance(relay, SmtpMailer) and relay.target.port == mail_sink.port


def test_render_email_escapes_html_but_not_subject_or_text(settings):
    now = datetime(2026, 12, 4, 16, 0, tzinfo=UTC)
    item = DigestItem(
        kind="update",
        kind_label="",
        title="Tiles & <b>grout</b>",
        excerpt="Fish & chips",
        day="Fri 4 Dec",
        author="",
        images=(),
        more_photos=0,
        more_videos=0,
    )
    content = DigestContent(
        project_name="Smith & Sons\nBcc: x@evil.example",
        recipient_name="Sarah",
        recipient_email="s@client.example",
        access_token="tok",
        items=(item,),
        covers_until=now,
        since=None,
        since_day="",
        oldest=now,
    )

    context = {"content": content, "timeline_url": "https://x/c/tok", "thumbs": {}}
    subject, text, html = render_email("digest", context, settings)

    assert subject == "Smith & Sons Bcc: x@evil.example: 1 update this week"
    assert "Tiles & <b>grout</b>" in text and "Fish & chips" in text
    assert html is not None and "Tiles &amp; &lt;b&gt;grout&lt;/b&gt;" in html and "Fish &amp; chips" in html


def test_mail_we_send_is_recognised_if_it_comes_back(settings):
    from email.message import EmailMessage
    from email.parser import BytesHeaderParser

    from feed.automated import automated_reason
    from feed.mail import stamp_message

    message = EmailMessage()
    message["To"] = "jane@mailbox.example"
    message.set_content("hello")
    stamped = stamp_message(message, settings)
    assert stamped["X-Workfeed-Loop"] == settings.mail_domain
    assert automated_reason(BytesHeaderParser().parsebytes(stamped.as_bytes()), "dan@buildco.example")
