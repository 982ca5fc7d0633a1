"""Decisions from a staff email to the client at once, answered by reply, told to staff, reminded."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from email.message import EmailMessage

import pytest
from sqlalchemy import select

from feed.db import transaction
from feed.models import Decision, Entry, Inbound, Member, utcnow
from feed.projects import Person, create_project
from tests.workers.test_ingest import ADDRESS, STAFF, accept, inbound, outbox, text_of
from workers.decisions import remind
from workers.ingest import ingest

JANE = "jane@mailbox.example"


@pytest.fixture
def project_id(sessions) -> int:
    with transaction(sessions) as db:
        project = create_project(
            db,
            "Holloway Kitchen",
            owner=Person(STAFF, "Dan Mercer"),
            staff=[Person("priya@buildco.example", "Priya")],
            clients=[Person(JANE, "Jane Holloway")],
        )
        return project.id


def decision_email(subject: str = "[Decision] Splashback tile colour") -> bytes:
    mail = EmailMessage()
    mail["From"] = f"Dan Mercer <{STAFF}>"
    mail["To"] = ADDRESS
    mail["Subject"] = subject
    mail["Message-ID"] = "<decide-1@buildco.example>"
    mail.set_content("Sage or Chalk? We need to order by Friday.\n")
    return mail.as_bytes()


def reply_email(text: str, *, to: str, in_reply_to: str | None, sender: str = JANE, **headers: str) -> bytes:
    mail = EmailMessage()
    mail["From"] = f"Jane Holloway <{sender}>"
    mail["To"] = to
    mail["Subject"] = "Re: Holloway Kitchen needs your decision"
    mail["Message-ID"] = f"<reply-{abs(hash(text))}@mailbox.example>"
    if in_reply_to:
        mail["In-Reply-To"] = in_reply_to
    for name, value in headers.items():
        mail[name.replace("_", "-")] = value
    mail.set_content(f"{text}\n\nOn Mon, 1 Dec 2025 at 16:00, Dan Mercer <{STAFF}> wrote:\n> Sage or Chalk?\n")
    return mail.as_bytes()


def post_decision(runtime, project_id):
    ingest(runtime, accept(runtime, decision_email(), project_id))
    [asked] = [m for m in outbox(runtime) if m["To"] == JANE]
    return asked


def test_a_decision_reaches_the_client_at_once_with_a_reply_address(runtime, project_id):
    asked = post_decision(runtime, project_id)
    assert asked["Subject"] == "Holloway Kitchen: needs your decision – Splashback tile colour"
    assert asked["Auto-Submitted"] == "auto-generated"
    with runtime.sessions() as db:
        jane = db.scalar(select(Member).where(Member.email == JANE))
        entry = db.scalar(select(Entry).where(Entry.kind == "decision"))
        assert entry.decision.state == Decision.OPEN
        assert asked["Reply-To"] == f"reply+{jane.reply_key}@updates.example.com"
        assert asked["Message-ID"].strip().startswith(f"<decision.{entry.key}.")
    assert "Sage or Chalk?" in text_of(asked) and f"/c/{jane.access_token}" in text_of(asked)


def test_an_approved_reply_is_on_the_record_and_staff_are_told(runtime, project_id):
    asked = post_decision(runtime, project_id)
    reply = reply_email("Approved", to=asked["Reply-To"], in_reply_to=asked["Message-ID"])
    inbound_id = accept(runtime, reply, project_id, rcpt=asked["Reply-To"], mail_from=JANE)
    ingest(runtime, inbound_id)
    assert inbound(runtime, inbound_id).status == Inbound.POSTED
    with runtime.sessions() as db:
        decision = db.scalar(select(Decision))
        assert (decision.state, decision.answered_via, decision.answered_by.email) == ("approved", "email", JANE)
        assert decision.answered_at is not None
        answer = db.scalar(select(Entry).where(Entry.kind == "answer"))
        assert answer.title == "Approved: Splashback tile colour"
        assert (answer.author.email, answer.reply_to_id, answer.inbound_id) == (JANE, decision.entry_id, inbound_id)
    told = [m for m in outbox(runtime) if m["Subject"].startswith("Holloway Kitchen: Jane Holloway approved")]
    assert sorted(m["To"] for m in told) == [STAFF, "priya@buildco.example"]
    assert "by email" in text_of(told[0])


def test_anything_else_in_a_reply_is_a_question_and_the_decision_stays_open(runtime, project_id):
    asked = post_decision(runtime, project_id)
    reply = reply_email("Is Sage darker than the sample?", to=asked["Reply-To"], in_reply_to=asked["Message-ID"])
    ingest(runtime, accept(runtime, reply, project_id, rcpt=asked["Reply-To"], mail_from=JANE))
    with runtime.sessions() as db:
        assert db.scalar(select(Decision)).state == Decision.OPEN
        question = db.scalar(select(Entry).where(Entry.kind == "message"))
        assert question.title == "Question about Splashback tile colour"
        assert question.body == "Is Sage darker than the sample?"  # the quote is gone
    told = [m for m in outbox(runtime) if "Jane Holloway asked about Splashback tile colour" in m["Subject"]]
    assert len(told) == 2 and "Is Sage darker than the sample?" in text_of(told[0])


def test_a_bare_yes_to_a_digest_approves_nothing(runtime, project_id):
    asked = post_decision(runtime, project_id)
    ingest(runtime, accept(runtime, reply_email("yes", to=asked["Reply-To"], in_reply_to=None), project_id,
                           rcpt=asked["Reply-To"], mail_from=JANE))
    with runtime.sessions() as db:
        assert db.scalar(select(Decision)).state == Decision.OPEN
        assert db.scalar(select(Entry).where(Entry.kind == "message")).title == "Message from Jane Holloway"


def test_a_reply_from_another_address_is_never_the_clients_words(runtime, project_id):
    asked = post_decision(runtime, project_id)
    forged = reply_email("Approved", to=asked["Reply-To"], in_reply_to=asked["Message-ID"], sender="x@evil.example")
    inbound_id = accept(runtime, forged, project_id, rcpt=asked["Reply-To"], mail_from="x@evil.example")
    ingest(runtime, inbound_id)
    assert inbound(runtime, inbound_id).status == Inbound.REFUSED
    with runtime.sessions() as db:
        assert db.scalar(select(Decision)).state == Decision.OPEN
        assert db.scalars(select(Entry).where(Entry.kind.in_(("answer", "message")))).all() == []


def test_an_auto_reply_to_the_reply_address_is_not_recorded(runtime, project_id):
    asked = post_decision(runtime, project_id)
    away = reply_email("Approved", to=asked["Reply-To"], in_reply_to=asked["Message-ID"], Auto_Submitted="auto-replied")
    inbound_id = accept(runtime, away, project_id, rcpt=asked["Reply-To"], mail_from=JANE)
    ingest(runtime, inbound_id)
    assert inbound(runtime, inbound_id).status == Inbound.AUTOMATED
    with runtime.sessions() as db:
        assert db.scalar(select(Decision)).state == Decision.OPEN


def test_unanswered_decisions_are_reminded_every_72_hours_until_answered(runtime, project_id):
    post_decision(runtime, project_id)
    now = utcnow()
    reminders = lambda: [m for m in outbox(runtime) if m["Subject"].startswith("Reminder:")]  # noqa: E731
    assert remind(runtime, now + timedelta(hours=71)) == 0
    assert remind(runtime, now + timedelta(hours=73)) == 1
    assert remind(runtime, now + timedelta(hours=74)) == 0  # just reminded
    assert remind(runtime, now + timedelta(hours=146)) == 1
    assert [m["To"] for m in reminders()] == [JANE, JANE]
    with transaction(runtime.sessions) as db:
        db.scalar(select(Decision)).state = Decision.APPROVED
    assert remind(runtime, now + timedelta(hours=300)) == 0


def test_the_reminder_interval_is_a_setting(runtime, project_id):
    post_decision(runtime, project_id)
    daily = dataclasses.replace(runtime, settings=runtime.settings.with_changes(decision_reminder_hours=24))
    assert remind(daily, utcnow() + timedelta(hours=25)) == 1
