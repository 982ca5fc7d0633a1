"""Recognising auto-replies, bounces and list mail, and reading the failed recipients of a bounce."""

from __future__ import annotations

import email
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.policy import compat32

import pytest

from feed.automated import automated_reason, bounced_recipients
from feed.mail import stamp_message
from feed.parsing import parse_email
from feed.settings import Settings
from tests.conftest import CORPUS, absent, sample

SISIMAI = CORPUS / "sisimai-set-of-emails" / "maildir"


def person(**headers: str) -> EmailMessage:
    """An ordinary note from staff, with extra headers."""
    msg = EmailMessage()
    msg["From"] = "Dan Mercer <dan.mercer@buildco.example>"
    msg["To"] = "holloway-kitchen@updates.example.com"
    msg["Subject"] = "Walls plastered"
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content("Second coat on.")
    return msg


def headers_only(msg: email.message.Message) -> email.message.Message:
    """Parse the way the SMTP gateway does: headers only, compat32."""
    return BytesHeaderParser(policy=compat32).parsebytes(msg.as_bytes())


def delivery_report(*recipient_blocks: str, report_type: str = "delivery-status") -> bytes:
    blocks = "\n".join(recipient_blocks)
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.mailbox.example>\n"
        "To: bounces@updates.example.com\nSubject: Undelivered Mail Returned to Sender\nMIME-Version: 1.0\n"
        f'Content-Type: multipart/report; report-type={report_type}; boundary="BND"\n\n'
        "--BND\nContent-Type: text/plain\n\nYour message could not be delivered.\n\n"
        "--BND\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.mailbox.example\n\n"
        f"{blocks}\n--BND--\n"
    ).encode()


def test_mail_from_a_person_is_not_automated():
    msg = person()

    assert automated_reason(msg, "dan.mercer@buildco.example") is None
    assert automated_reason(headers_only(msg), "dan.mercer@buildco.example") is None


def test_auto_submitted_no_means_a_person():
    assert automated_reason(person(Auto_Submitted="no")) is None


def test_outlook_suppress_header_is_not_a_signal():
    assert automated_reason(person(X_Auto_Response_Suppress="All")) is None


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"Auto-Submitted": "auto-replied"}, "auto-reply (Auto-Submitted: auto-replied)"),
        ({"Auto-Submitted": "auto-generated"}, "automated message (Auto-Submitted: auto-generated)"),
        ({"Auto-Submitted": "Auto-Replied; owner-email=jane@mailbox.example"}, "auto-reply (Auto-Submitted: "),
        ({"X-Autoreply": "yes"}, "auto-reply (X-Autoreply: yes)"),
        ({"X-Autorespond": "Jane is away"}, "auto-reply (X-Autorespond: Jane is away)"),
        ({"X-Auto-Response": "vacation"}, "auto-reply (X-Auto-Response: vacation)"),
        ({"Precedence": "bulk"}, "bulk mail (Precedence: bulk)"),
        ({"Precedence": "junk"}, "bulk mail (Precedence: junk)"),
        ({"Precedence": "List"}, "mailing list (Precedence: list)"),
        ({"List-Id": "Site news <news.buildco.example>"}, "mailing list (List-Id: Site news <news.buildco.example>)"),
        ({"List-Unsubscribe": "<mailto:leave@lists.example>"}, "mailing list (List-Unsubscribe: "),
        ({"Return-Path": "<>"}, "bounce or notification (empty envelope sender)"),
    ],
)
def test_header_signals_give_a_readable_reason(headers, reason):
    msg = person()
    for name, value in headers.items():
        msg[name] = value

    assert automated_reason(msg).startswith(reason)
    assert automated_reason(headers_only(msg)).startswith(reason)


@pytest.mark.parametrize(
    "subject",
    [
        "Automatic reply: Your weekly update",
        "Auto: Your weekly update",
        "Out of Office: Your weekly update",
        "Out of office until Monday",
        "Autosvar: Your weekly update",
        "Abwesenheitsnotiz: Ihre Wochenübersicht",
        "Undeliverable: Your weekly update",
        "Undelivered Mail Returned to Sender",
        "Delivery Status Notification (Failure)",
    ],
)
def test_automated_subjects_are_recognised(subject):
    msg = person()
    msg.replace_header("Subject", subject)

    reason = automated_reason(headers_only(msg))

    assert reason is not None and "subject starts" in reason


def test_encoded_automated_subject_is_recognised():
    raw = person().as_bytes().replace(b"Subject: Walls plastered", b"Subject: =?utf-8?q?Automatic_reply=3A_Update?=")

    assert automated_reason(BytesHeaderParser(policy=compat32).parsebytes(raw)) == (
        'auto-reply (subject starts "Automatic reply:")'
    )


@pytest.mark.parametrize("subject", ["Worktop delivery moved", "Re: Out of office cover", "Autumn schedule"])
def test_subjects_that_only_resemble_automated_ones_are_from_a_person(subject):
    msg = person()
    msg.replace_header("Subject", subject)

    assert automated_reason(msg) is None


def test_null_envelope_sender_is_automated():
    assert automated_reason(person(), "") == "bounce or notification (empty envelope sender)"


def test_unknown_envelope_sender_is_not_judged():
    assert automated_reason(person(), None) is None


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("From", "Mail Delivery System <MAILER-DAEMON@mx.mailbox.example>"),
        ("From", "postmaster@mailbox.example"),
        ("From", "MAILER-DAEMON <>"),
        ("Sender", "Postmaster <POSTMASTER@mailbox.example>"),
        ("From", "post_master@vtext.example.com"),
        ("From", "Mailer_Daemon@mx.mailbox.example"),
    ],
)
def test_daemon_senders_are_automated(name, value):
    msg = person()
    if name in msg:
        msg.replace_header(name, value)
    else:
        msg[name] = value

    assert automated_reason(headers_only(msg)).startswith("bounce (sent by ")


def test_daemon_envelope_sender_is_automated():
    assert automated_reason(person(), "MAILER-DAEMON@mx.mailbox.example").startswith("bounce (sent by ")


def test_delivery_report_reads_as_a_bounce_before_other_signals():
    raw = delivery_report("Final-Recipient: rfc822; a@b.example\nAction: failed\n")

    assert automated_reason(email.message_from_bytes(raw)) == "bounce (delivery status report)"
    assert automated_reason(BytesHeaderParser().parsebytes(raw)) == "bounce (delivery status report)"


def test_read_receipt_is_automated():
    msg = person()
    msg.replace_header("Content-Type", 'multipart/report; report-type=disposition-notification; boundary="x"')

    assert automated_reason(msg) == "read receipt (disposition notification)"


def test_bounced_recipients_are_the_failed_ones_lowercased():
    raw = delivery_report(
        "Final-Recipient: rfc822; <Old.Address@Mailbox.Example>\nOriginal-Recipient: rfc822;jane@mailbox.example\n"
        "Action: failed\nStatus: 5.1.1\n",
        "Final-Recipient: rfc822; slow@mailbox.example\nAction: delayed\nStatus: 4.4.1\n",
        "Final-Recipient: RFC822; gone@mailbox.example\nAction: failed\nStatus: 5.1.1\n",
    )

    assert bounced_recipients(email.message_from_bytes(raw)) == (
        "old.address@mailbox.example",
        "jane@mailbox.example",
        "gone@mailbox.example",
    )


def test_mail_without_a_report_has_no_bounced_recipients():
    assert bounced_recipients(person()) == ()


def test_header_only_report_has_no_bounced_recipients_and_does_not_fail():
    raw = delivery_report("Final-Recipient: rfc822; a@b.example\nAction: failed\n")

    assert bounced_recipients(BytesHeaderParser().parsebytes(raw)) == ()


def test_sample_out_of_office():
    msg = email.message_from_bytes(sample("09-out-of-office-auto-reply.eml"))

    assert automated_reason(msg) == "auto-reply (Auto-Submitted: auto-replied)"


def test_sample_bounce():
    raw = sample("10-bounce-dsn.eml")

    assert automated_reason(BytesHeaderParser(policy=compat32).parsebytes(raw), "") is not None
    assert bounced_recipients(email.message_from_bytes(raw)) == ("old.address@mailbox.example",)


@pytest.mark.parametrize("name", ["01-iphone-three-photos-exif-rotated.eml", "04-outlook-html-only-decision.eml"])
def test_samples_from_staff_are_not_automated(name):
    assert (
        automated_reason(BytesHeaderParser(policy=compat32).parsebytes(sample(name)), "dan.mercer@buildco.example")
        is None
    )


def sisimai(pattern: str) -> list:
    if not SISIMAI.is_dir():
        absent(f"shared corpus not present at {SISIMAI}")
    return sorted(SISIMAI.glob(pattern))


def test_every_rfc3834_auto_reply_in_the_corpus_is_recognised():
    files = sisimai("*/rfc3834-*.eml")

    missed = [path.name for path in files if automated_reason(email.message_from_bytes(path.read_bytes())) is None]

    assert len(files) >= 6
    assert missed == []


def test_every_rfc3464_bounce_in_the_corpus_is_recognised_from_headers_alone():
    files = sisimai("*/rfc3464-*.eml")

    missed = [
        path.name for path in files if automated_reason(BytesHeaderParser().parsebytes(path.read_bytes())) is None
    ]

    assert len(files) >= 8
    assert missed == []


def test_ordinary_mail_in_the_corpus_is_not_automated():
    files = sisimai("not/is-not-bounce-*.eml")

    flagged = [path.name for path in files if automated_reason(email.message_from_bytes(path.read_bytes()))]

    assert len(files) == 2
    assert flagged == []


def our_receipt(**headers: str) -> EmailMessage:
    """A message as workfeed sends it, stamped the way feed.mail stamps everything we send."""
    msg = EmailMessage()
    msg["To"] = "dan.mercer@buildco.example"
    msg["Subject"] = "Posted: Tiling started"
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content("Your update is on the timeline.")
    return stamp_message(msg, Settings(mail_domain="updates.example.com"))


def test_mail_we_sent_coming_back_is_automated():
    raw = our_receipt().as_bytes()

    parsed = parse_email(raw, "dan.mercer@buildco.example")

    assert parsed.message_id.endswith("@updates.example.com")
    assert parsed.automated == "our own mail came back (X-Workfeed-Loop: updates.example.com)"


def test_mail_we_sent_is_known_by_its_loop_header_even_when_auto_submitted_is_lost():
    msg = our_receipt(X_Workfeed_Loop="updates.example.com")
    del msg["Auto-Submitted"]

    assert automated_reason(headers_only(msg)) == "our own mail came back (X-Workfeed-Loop: updates.example.com)"


@pytest.mark.parametrize(
    "sender", ["no-reply@portal.supplier.example", "DoNotReply@alerts.bank.example", "noreply@crm.example"]
)
def test_no_reply_senders_are_automated(sender):
    msg = person()
    msg.replace_header("From", sender)

    assert automated_reason(headers_only(msg)) == f"automated message (sent from {sender})"


@pytest.mark.parametrize("sender", ["noreen@buildco.example", "replies@buildco.example", "no.rep@buildco.example"])
def test_people_whose_address_merely_resembles_no_reply_are_not_automated(sender):
    msg = person()
    msg.replace_header("From", sender)

    assert automated_reason(headers_only(msg)) is None


def test_feedback_loop_complaint_is_automated():
    msg = person()
    msg.replace_header("Subject", "complaint about message from 192.0.2.222")

    assert automated_reason(headers_only(msg)) == 'abuse report (subject starts "complaint about message from")'
