"""The SMTP gateway, spoken to over real SMTP on localhost, with a real database and Redis."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

import pytest
from redis import Redis
from rq import Queue
from sqlalchemy import select

from feed.db import transaction
from feed.jobs import INGEST
from feed.models import Inbound
from feed.projects import Person, create_project
from feed.spool import Spool
from gateway.server import build_gateway
from tests.processes import free_port
from workfeed.sending import send_raw, with_crlf

STAFF = "dan.mercer@buildco.example"
CLIENT = "jane.holloway@mailbox.example"
PROJECT = "holloway-kitchen@updates.example.com"


@pytest.fixture
def gateway_settings(settings, redis_url):
    return settings.with_changes(redis_url=redis_url, gateway_port=free_port(), max_message_bytes=200_000)


@pytest.fixture
def project(sessions):
    with transaction(sessions) as db:
        created = create_project(
            db,
            "Holloway Kitchen",
            owner=Person(STAFF, "Dan Mercer"),
            staff=[Person("priya@buildco.example")],
            clients=[Person(CLIENT, "Jane Holloway")],
        )
    return created


@pytest.fixture
def gateway(gateway_settings, project):
    controller = build_gateway(gateway_settings)
    controller.start()
    yield gateway_settings
    controller.stop()


def message(sender: str = STAFF, to: str = PROJECT, subject: str = "Tiling started", **headers: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = to
    mail["Subject"] = subject
    for name, value in headers.items():
        mail[name.replace("_", "-")] = value
    mail.set_content("First row of tiles is up.\n")
    return mail


def send(settings, mail: EmailMessage, sender: str | None = None, to: str | None = None) -> dict:
    with smtplib.SMTP(settings.gateway_host, settings.gateway_port, timeout=10) as client:
        return client.sendmail(
            sender if sender is not None else mail["From"], [to or mail["To"]], with_crlf(mail.as_bytes())
        )


def inbound_rows(sessions) -> list[Inbound]:
    with sessions() as db:
        return list(db.scalars(select(Inbound).order_by(Inbound.id)))


def test_rcpt_refuses_unknown_project(gateway, sessions):
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        send(gateway, message(to="no-such-project@updates.example.com"))
    code, reply = refused.value.recipients["no-such-project@updates.example.com"]
    assert code == 550
    assert reply.startswith(b"5.1.1 No project uses the address no-such-project@updates.example.com")
    assert inbound_rows(sessions) == []


def test_rcpt_refuses_other_domains(gateway):
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        send(gateway, message(to="holloway-kitchen@elsewhere.example"))
    assert refused.value.recipients["holloway-kitchen@elsewhere.example"][0] == 550


def test_data_refuses_a_sender_who_is_not_staff(gateway, sessions):
    with pytest.raises(smtplib.SMTPDataError) as refused:
        send(gateway, message(sender="someone@elsewhere.example"))
    assert refused.value.smtp_code == 550
    assert (
        b"5.7.1 someone@elsewhere.example is not on the team for holloway-kitchen@updates.example.com"
        in refused.value.smtp_error
    )
    assert inbound_rows(sessions) == []


def test_a_client_cannot_post_either(gateway):
    with pytest.raises(smtplib.SMTPDataError) as refused:
        send(gateway, message(sender=CLIENT))
    assert refused.value.smtp_code == 550


def test_accepted_message_is_spooled_recorded_and_queued(gateway, sessions):
    mail = message()
    with smtplib.SMTP(gateway.gateway_host, gateway.gateway_port, timeout=10) as client:
        client.ehlo()
        client.mail(STAFF)
        client.rcpt(PROJECT)
        code, reply = client.data(with_crlf(mail.as_bytes()))
    assert code == 250
    [row] = inbound_rows(sessions)
    assert row.key.encode() in reply
    assert (row.status, row.mail_from, row.rcpt_to) == (Inbound.QUEUED, STAFF, PROJECT)
    spooled = Spool(gateway.spool_dir).read(row.spool_name)
    assert spooled == with_crlf(mail.as_bytes())
    assert row.size == len(spooled)
    assert Queue(INGEST, connection=Redis.from_url(gateway.redis_url)).job_ids == [f"ingest-{row.id}"]


def test_plus_address_reaches_the_project(gateway, sessions):
    send(gateway, message(to="Holloway-Kitchen+decision@updates.example.com"))
    [row] = inbound_rows(sessions)
    assert row.project_id is not None
    assert row.rcpt_to == "Holloway-Kitchen+decision@updates.example.com"


def test_auto_reply_from_a_client_is_accepted_quietly(gateway, sessions):
    # Refusing it would make the client's server answer the auto-reply: a loop.
    send(gateway, message(sender=CLIENT, subject="Automatic reply: your update", Auto_Submitted="auto-replied"))
    [row] = inbound_rows(sessions)
    assert row.status == Inbound.QUEUED


def test_bounce_to_our_bounce_address_is_accepted_from_the_null_sender(gateway, sessions):
    bounce = message(
        sender="MAILER-DAEMON@mx.example", to="bounces+digest-7@updates.example.com", subject="Undelivered"
    )
    send(gateway, bounce, sender="")
    [row] = inbound_rows(sessions)
    assert (row.project_id, row.mail_from) == (None, "")


def big_message() -> EmailMessage:
    mail = message()
    mail.add_attachment(b"\0" * 300_000, maintype="application", subtype="octet-stream", filename="big.bin")
    return mail


TOO_BIG = b"5.3.4 This email is bigger than the 0.2 MB we accept. Send the photos and videos over several emails."


def test_oversize_message_declared_with_size_is_refused_at_mail_from(gateway, sessions):
    with pytest.raises(smtplib.SMTPSenderRefused) as refused:
        send(gateway, big_message())
    assert (refused.value.smtp_code, refused.value.smtp_error) == (552, TOO_BIG)
    assert inbound_rows(sessions) == []


def test_oversize_message_sent_without_size_is_refused_after_data(gateway, sessions):
    with smtplib.SMTP(gateway.gateway_host, gateway.gateway_port, timeout=10) as client:
        client.ehlo()
        client.mail(STAFF)
        client.rcpt(PROJECT)
        assert client.data(with_crlf(big_message().as_bytes())) == (552, TOO_BIG)
    assert inbound_rows(sessions) == []


def test_internal_failure_is_temporary_never_a_refusal(settings, redis_url, project, tmp_path, sessions):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the spool folder should be")
    broken = settings.with_changes(redis_url=redis_url, gateway_port=free_port(), spool_dir=blocked)
    controller = build_gateway(broken)
    controller.start()
    try:
        with pytest.raises(smtplib.SMTPDataError) as failed:
            send(broken, message())
        assert failed.value.smtp_code == 451
        assert inbound_rows(sessions) == []
    finally:
        controller.stop()


def test_send_command_reports_the_gateways_answer(gateway, sessions):
    accepted = send_raw(gateway.gateway_host, gateway.gateway_port, message().as_bytes(), PROJECT)
    [row] = inbound_rows(sessions)
    assert accepted == f"250 2.0.0 Thanks, your update is received (ref {row.key})"
    refused = send_raw(gateway.gateway_host, gateway.gateway_port, message().as_bytes(), "nobody@updates.example.com")
    assert refused.startswith("550 5.1.1 No project uses the address nobody@updates.example.com")


def test_a_message_sent_again_is_recorded_once(gateway, sessions):
    mail = message(Message_ID="<retry-1@buildco.example>")
    first = send_raw(gateway.gateway_host, gateway.gateway_port, mail.as_bytes(), PROJECT)
    again = send_raw(gateway.gateway_host, gateway.gateway_port, mail.as_bytes(), PROJECT)
    [row] = inbound_rows(sessions)
    assert first == f"250 2.0.0 Thanks, your update is received (ref {row.key})"
    assert again == f"250 2.0.0 Thanks, we already have this email (ref {row.key}); it is posted once"
    assert len(list(Spool(gateway.spool_dir).new.iterdir())) == 1


def test_without_a_message_id_the_same_bytes_are_recorded_once(gateway, sessions):
    raw = message().as_bytes()
    assert "Message-ID" not in raw.decode()
    for _ in range(2):
        send_raw(gateway.gateway_host, gateway.gateway_port, raw, PROJECT)
    send_raw(gateway.gateway_host, gateway.gateway_port, message(subject="Another").as_bytes(), PROJECT)
    assert len(inbound_rows(sessions)) == 2


def test_the_same_message_id_in_another_project_is_its_own(gateway, sessions):
    with transaction(sessions) as db:
        create_project(db, "Annex", owner=Person(STAFF))
    mail = message(Message_ID="<shared@buildco.example>")
    send_raw(gateway.gateway_host, gateway.gateway_port, mail.as_bytes(), PROJECT)
    send_raw(gateway.gateway_host, gateway.gateway_port, mail.as_bytes(), "annex@updates.example.com")
    assert len(inbound_rows(sessions)) == 2


def test_one_message_to_two_projects_is_recorded_for_both_or_refused_for_both(gateway, sessions):
    with transaction(sessions) as db:
        create_project(db, "Annex", owner=Person("olga@buildco.example"))
    with smtplib.SMTP(gateway.gateway_host, gateway.gateway_port, timeout=10) as client:
        client.ehlo()
        client.mail(STAFF)
        client.rcpt(PROJECT)
        client.rcpt("annex@updates.example.com")
        code, reply = client.data(with_crlf(message().as_bytes()))
    assert code == 550 and b"not on the team for annex@updates.example.com" in reply
    assert inbound_rows(sessions) == []


def test_lines_longer_than_the_rfc_limit_are_accepted(gateway, sessions):
    mail = message()
    mail.add_attachment(("<p>" + "x" * 5000 + "</p>").encode(), maintype="text", subtype="html", cte="8bit")
    raw = with_crlf(mail.as_bytes())
    assert max(len(line) for line in raw.split(b"\r\n")) > 5000
    answer = send_raw(gateway.gateway_host, gateway.gateway_port, raw, PROJECT)
    assert answer.startswith("250 "), answer
    [row] = inbound_rows(sessions)
    assert Spool(gateway.spool_dir).read(row.spool_name) == raw


def test_a_forged_staff_email_is_accepted_and_held_not_posted(settings, redis_url, project, sessions):
    trusting = settings.with_changes(
        redis_url=redis_url, gateway_port=free_port(), trusted_authserv_id="mx.updates.example.com"
    )
    controller = build_gateway(trusting)
    controller.start()
    try:
        forged = message(
            Authentication_Results="mx.updates.example.com; dmarc=fail header.from=buildco.example; spf=fail"
        )
        honest = message(subject="Real", Authentication_Results="mx.updates.example.com; dmarc=pass")
        planted = message(subject="Planted", Authentication_Results="evil.example; dmarc=fail")
        for mail in (forged, honest, planted):
            assert send_raw(trusting.gateway_host, trusting.gateway_port, mail.as_bytes(), PROJECT).startswith("250 ")
    finally:
        controller.stop()
    held, real, kept = inbound_rows(sessions)
    assert held.status == Inbound.HELD and "DMARC" in held.reason
    assert (real.status, kept.status) == (Inbound.QUEUED, Inbound.QUEUED)  # someone else's header is ignored
    connection = Redis.from_url(redis_url)
    assert Queue("mail", connection=connection).jobs[0].args == (held.id,)
    assert Queue(INGEST, connection=connection).job_ids == [f"ingest-{real.id}", f"ingest-{kept.id}"]
