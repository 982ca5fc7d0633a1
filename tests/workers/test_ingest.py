"""The ingest job on real mail bytes, a real database, real media and a real Redis."""

from __future__ import annotations

import dataclasses
import io
import re
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from PIL import Image
from redis import Redis
from rq import Queue, SimpleWorker
from rq.job import Job, JobStatus
from sqlalchemy import func, select

from feed.db import transaction
from feed.jobs import INGEST, enqueue_ingest
from feed.keys import read_undo_token
from feed.models import Entry, Inbound, Member, utcnow
from tests.conftest import sample
from workers.ingest import MAX_ATTEMPTS, ingest, requeue_pending
from workers.runtime import Runtime

STAFF = "dan.mercer@buildco.example"
ADDRESS = "holloway-kitchen@updates.example.com"


def photo(shade: int = 0) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), (200, 120, shade)).save(buffer, "JPEG")
    return buffer.getvalue()


def update_email(subject: str = "Tiling started", *, photos: int = 1, **headers: str) -> bytes:
    mail = EmailMessage()
    mail["From"] = f"Dan Mercer <{STAFF}>"
    mail["To"] = ADDRESS
    mail["Subject"] = subject
    mail["Message-ID"] = "<tiling-1@buildco.example>"
    for name, value in headers.items():
        mail[name.replace("_", "-")] = value
    mail.set_content("First row of tiles is up.\n\nSent from my iPhone\n")
    for n in range(photos):
        mail.add_attachment(photo(shade=40 * n), maintype="image", subtype="jpeg", filename=f"IMG_{n}.JPG")
    return mail.as_bytes()


def accept(runtime: Runtime, raw: bytes, project_id: int | None, *, rcpt: str = ADDRESS, mail_from: str = STAFF) -> int:
    """Do what the gateway does before it says 250."""
    name = runtime.spool.write(raw)
    with transaction(runtime.sessions) as db:
        row = Inbound(
            project_id=project_id, spool_name=name, sha256="0" * 64, size=len(raw), mail_from=mail_from, rcpt_to=rcpt
        )
        db.add(row)
        db.flush()
        return row.id


def inbound(runtime: Runtime, inbound_id: int) -> Inbound:
    with runtime.sessions() as db:
        return db.get(Inbound, inbound_id)


def entries(runtime: Runtime) -> list[Entry]:
    with runtime.sessions() as db:
        return list(db.scalars(select(Entry)))


def test_ingest_posts_the_note_and_photos(runtime, project_id, store):
    inbound_id = accept(runtime, update_email(photos=2), project_id)
    assert ingest(runtime, inbound_id).startswith("posted")
    [entry] = entries(runtime)
    with runtime.sessions() as db:
        entry = db.get(Entry, entry.id)
        assert (entry.title, entry.kind, entry.project_id) == ("Tiling started", "update", project_id)
        assert entry.body == "First row of tiles is up."
        assert entry.author.email == STAFF
        assert [a.kind for a in entry.attachments] == ["image", "image"]
        for attachment in entry.attachments:
            assert store.exists(attachment.sha256)
            assert {r.name for r in attachment.renditions} == {"full", "web", "thumb"}
            assert all(store.exists(r.sha256) for r in attachment.renditions)
    assert inbound(runtime, inbound_id).status == Inbound.POSTED


def test_ingest_twice_posts_once(runtime, project_id):
    inbound_id = accept(runtime, update_email(), project_id)
    ingest(runtime, inbound_id)
    assert ingest(runtime, inbound_id) == "already posted"
    assert len(entries(runtime)) == 1


def test_staff_without_a_name_get_the_one_from_their_email(runtime, project_id):
    ingest(runtime, accept(runtime, update_email(), project_id))
    with runtime.sessions() as db:
        assert db.scalar(select(Member.name).where(Member.email == STAFF)) == "Dan Mercer"


def test_plus_address_sets_the_kind(runtime, project_id):
    rcpt = "holloway-kitchen+decision@updates.example.com"
    ingest(runtime, accept(runtime, update_email("Splashback colour"), project_id, rcpt=rcpt))
    [entry] = entries(runtime)
    assert (entry.kind, entry.title) == ("decision", "Splashback colour")


def test_auto_reply_is_recorded_and_never_posted(runtime, project_id):
    raw = update_email("Automatic reply: away", photos=0, Auto_Submitted="auto-replied")
    inbound_id = accept(runtime, raw, project_id, mail_from="jane@mailbox.example")
    ingest(runtime, inbound_id)
    row = inbound(runtime, inbound_id)
    assert row.status == Inbound.AUTOMATED and "auto-repl" in row.reason
    assert entries(runtime) == []


def test_bounce_notes_the_address_that_failed(runtime):
    raw = sample("10-bounce-dsn.eml")
    inbound_id = accept(runtime, raw, None, rcpt="bounces+digest-7@updates.example.com", mail_from="")
    ingest(runtime, inbound_id)
    row = inbound(runtime, inbound_id)
    assert row.status == Inbound.AUTOMATED
    assert "old.address@mailbox.example" in row.reason
    assert entries(runtime) == []


def test_a_message_that_keeps_failing_is_set_aside_with_its_reason(runtime, project_id):
    inbound_id = accept(runtime, update_email(), project_id)
    (runtime.spool.new / inbound(runtime, inbound_id).spool_name).unlink()
    for _ in range(MAX_ATTEMPTS - 1):
        with pytest.raises(FileNotFoundError):
            ingest(runtime, inbound_id)  # raised so RQ retries it
        assert inbound(runtime, inbound_id).status == Inbound.QUEUED
    assert ingest(runtime, inbound_id).startswith("failed")
    row = inbound(runtime, inbound_id)
    assert (row.status, row.attempts) == (Inbound.FAILED, MAX_ATTEMPTS)
    assert "FileNotFoundError" in row.reason


def test_a_message_whose_job_was_lost_is_queued_again_and_posted(runtime, project_id, redis_url, monkeypatch):
    connection = Redis.from_url(redis_url)
    lost = accept(runtime, update_email(), project_id)  # recorded, but its job never reached Redis
    queued = accept(runtime, update_email("Grouting"), project_id)
    enqueue_ingest(connection, queued)
    assert requeue_pending(runtime, connection, received_before=utcnow() - timedelta(minutes=1)) == 0
    assert requeue_pending(runtime, connection) == 1  # the one still queued is left alone
    assert Queue(INGEST, connection=connection).job_ids == [f"ingest-{queued}", f"ingest-{lost}"]

    for name, value in {
        "DATA_DIR": runtime.settings.data_dir,
        "DATABASE_URL": runtime.settings.database_url,
    }.items():
        monkeypatch.setenv(name, str(value))
    SimpleWorker([Queue(INGEST, connection=connection)], connection=connection).work(burst=True)
    with runtime.sessions() as db:
        assert db.scalar(select(func.count()).select_from(Entry)) == 2


def test_mail_from_the_null_sender_is_never_posted(runtime, project_id):
    # Anyone can send with an empty envelope sender (bounces do); it must not reach a client.
    inbound_id = accept(runtime, update_email("New bank details"), project_id, mail_from="")
    ingest(runtime, inbound_id)
    assert inbound(runtime, inbound_id).status == Inbound.AUTOMATED
    assert entries(runtime) == []


def test_a_sender_who_is_not_staff_is_never_posted_even_past_the_gateway(runtime, project_id):
    inbound_id = accept(runtime, update_email(), project_id, mail_from="jane@mailbox.example")
    ingest(runtime, inbound_id)
    row = inbound(runtime, inbound_id)
    assert (row.status, row.reason) == (Inbound.REFUSED, "jane@mailbox.example is not staff")
    assert entries(runtime) == []


def empty_email(subject: str = "") -> bytes:
    mail = EmailMessage()
    mail["From"] = STAFF
    mail["To"] = ADDRESS
    mail["Subject"] = subject
    mail.set_content("\nSent from my iPhone\n")
    return mail.as_bytes()


def test_an_email_with_nothing_to_post_is_refused_with_a_reason(runtime, project_id):
    inbound_id = accept(runtime, empty_email(), project_id)
    ingest(runtime, inbound_id)
    row = inbound(runtime, inbound_id)
    assert row.status == Inbound.REFUSED
    assert row.reason.startswith("It had nothing to post")
    assert entries(runtime) == []
    [notice] = outbox(runtime)
    assert notice["To"] == STAFF and notice["Subject"] == "Not posted: your email"
    assert notice["Auto-Submitted"] == "auto-generated"
    assert f"Your email to {ADDRESS} was not posted" in text_of(notice)
    assert "It had nothing to post: no subject, no note and no photos." in text_of(notice)


def test_a_subject_alone_is_an_update(runtime, project_id):
    ingest(runtime, accept(runtime, empty_email("Plasterer booked for Thursday"), project_id))
    [entry] = entries(runtime)
    assert (entry.title, entry.body) == ("Plasterer booked for Thursday", "")


def test_programs_are_dropped_with_a_note_and_the_rest_posted(runtime, project_id):
    mail = EmailMessage()
    mail["From"] = STAFF
    mail["To"] = ADDRESS
    mail["Subject"] = "Invoice"
    mail.set_content("See attached.")
    mail.add_attachment(
        b"MZ\x90\x00rest-of-a-program", maintype="application", subtype="pdf", filename="Invoice.pdf.exe"
    )
    mail.add_attachment(b"MZ\x90\x00disguised", maintype="application", subtype="pdf", filename="Invoice.pdf")
    mail.add_attachment(b"Sub AutoOpen()\nEnd Sub", maintype="application", subtype="octet-stream", filename="Q.docm")
    mail.add_attachment(photo(), maintype="image", subtype="jpeg", filename="IMG_1.JPG")
    ingest(runtime, accept(runtime, mail.as_bytes(), project_id))
    with runtime.sessions() as db:
        [entry] = db.scalars(select(Entry)).all()
        assert [a.filename for a in entry.attachments] == ["IMG_1.JPG"]
        for name in ("Invoice.pdf.exe", "Invoice.pdf", "Q.docm"):
            assert f"{name} was not posted: programs and macro documents can carry viruses." in entry.notes
    [notice] = outbox(runtime)
    assert notice["Subject"] == "Posted, but not everything: Invoice"
    assert "“Invoice”, an update with 1 photo" in text_of(notice)
    assert "Invoice.pdf.exe was not posted" in text_of(notice)
    assert "/c/" in text_of(notice)  # a link to see the post


def test_a_job_whose_worker_died_is_queued_again(runtime, project_id, redis_url):
    connection = Redis.from_url(redis_url)
    inbound_id = accept(runtime, update_email(), project_id)
    job = enqueue_ingest(connection, inbound_id)
    # What a worker killed mid-job leaves behind: started, then no heartbeat.
    job.set_status(JobStatus.STARTED)
    job.heartbeat(datetime.now(UTC) - timedelta(seconds=30), ttl=600)
    assert requeue_pending(runtime, connection) == 0  # still beating recently: left alone
    job.heartbeat(datetime.now(UTC) - timedelta(minutes=5), ttl=600)
    assert requeue_pending(runtime, connection) == 1
    assert Job.fetch(job.id, connection=connection).get_status() == JobStatus.QUEUED


def outbox(runtime: Runtime) -> list[EmailMessage]:
    folder = runtime.settings.outbox_dir
    files = sorted(folder.glob("*.eml")) if folder.is_dir() else []
    return [message_from_bytes(path.read_bytes(), policy=policy.default) for path in files]


def text_of(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()


def test_every_post_gets_a_receipt_with_a_view_link_and_an_undo_link(runtime, project_id):
    ingest(runtime, accept(runtime, update_email(photos=2), project_id))
    [receipt] = outbox(runtime)
    assert receipt["To"] == STAFF and receipt["Subject"] == "Posted: Tiling started"
    assert receipt["Auto-Submitted"] == "auto-generated"
    text = text_of(receipt)
    assert f"Your update is on the timeline of {ADDRESS}: “Tiling started”, an update with 2 photos." in text
    with runtime.sessions() as db:
        staff = db.scalar(select(Member).where(Member.email == STAFF))
        assert f"{runtime.settings.public_url}/c/{staff.access_token}" in text
    [token] = re.findall(r"/undo/(\S+)", text)
    [entry] = entries(runtime)
    assert read_undo_token(runtime.settings, token) == entry.key


def test_a_file_over_the_per_file_limit_is_left_out_and_the_rest_posted(runtime, project_id):
    small = dataclasses.replace(runtime, settings=runtime.settings.with_changes(max_attachment_bytes=20_000))
    mail = EmailMessage()
    mail["From"] = STAFF
    mail["To"] = ADDRESS
    mail["Subject"] = "Walkthrough"
    mail.set_content("Clip and a photo.")
    mail.add_attachment(b"\0" * 50_000, maintype="video", subtype="quicktime", filename="IMG_0001.MOV")
    mail.add_attachment(photo(), maintype="image", subtype="jpeg", filename="IMG_0002.JPG")
    ingest(small, accept(small, mail.as_bytes(), project_id))
    with runtime.sessions() as db:
        [entry] = db.scalars(select(Entry)).all()
        assert [a.filename for a in entry.attachments] == ["IMG_0002.JPG"]
    [notice] = outbox(runtime)
    assert "IMG_0001.MOV (0.1 MB) was not posted: one file can be at most 0.1 MB" in text_of(notice)


def test_people_who_are_not_staff_get_one_notice_a_day_at_most(runtime, project_id):
    for n in range(3):
        raw = update_email(f"Question {n}").replace(b"tiling-1@", f"q{n}@".encode())
        ingest(runtime, accept(runtime, raw, project_id, mail_from="jane@mailbox.example"))
    [notice] = outbox(runtime)
    assert notice["To"] == "jane@mailbox.example"
    assert "only the project's team can post updates" in text_of(notice)


def test_a_message_set_aside_is_reported_to_its_sender(runtime, project_id):
    inbound_id = accept(runtime, update_email(), project_id)
    (runtime.spool.new / inbound(runtime, inbound_id).spool_name).unlink()
    for _ in range(MAX_ATTEMPTS - 1):
        with pytest.raises(FileNotFoundError):
            ingest(runtime, inbound_id)
    assert outbox(runtime) == []  # not while RQ still retries
    ingest(runtime, inbound_id)
    [notice] = outbox(runtime)
    assert "Something went wrong on our side" in text_of(notice)


def test_our_own_email_coming_back_is_never_posted(runtime, project_id):
    # e.g. a digest forwarded back by a staff member's mail rule, headers intact
    raw = update_email("Your weekly update").replace(b"tiling-1@buildco.example", b"abc.123@updates.example.com")
    inbound_id = accept(runtime, raw, project_id)
    ingest(runtime, inbound_id)
    row = inbound(runtime, inbound_id)
    assert (row.status, row.reason) == (Inbound.AUTOMATED, "our own email came back")
    assert entries(runtime) == [] and outbox(runtime) == []


def test_the_owner_is_told_about_a_held_email_and_it_is_not_posted(runtime, project_id, monkeypatch):
    from workers.ingest import report_held

    inbound_id = accept(runtime, update_email("New bank details"), project_id)
    with transaction(runtime.sessions) as db:
        row = db.get(Inbound, inbound_id)
        row.status, row.reason = Inbound.HELD, "DMARC failed for buildco.example"
    for name, value in {"DATA_DIR": runtime.settings.data_dir, "DATABASE_URL": runtime.settings.database_url}.items():
        monkeypatch.setenv(name, str(value))
    assert report_held(inbound_id) is True
    assert report_held(inbound_id) is False  # told once
    [notice] = outbox(runtime)
    assert notice["To"] == STAFF and notice["Subject"] == "Held, possibly forged: New bank details"
    assert "DMARC failed for buildco.example" in text_of(notice)
    assert f"workfeed inbound retry {inbound(runtime, inbound_id).key}" in text_of(notice)
    assert ingest(runtime, inbound_id) == "already held" and entries(runtime) == []


def test_internal_lines_are_kept_for_staff_and_never_shown_to_clients(runtime, project_id):
    mail = EmailMessage()
    mail["From"] = STAFF
    mail["To"] = ADDRESS
    mail["Subject"] = "Worktop templated"
    mail.set_content("Templating done.\n\n[internal]\nSupplier margin 30%, tell nobody.\n")
    ingest(runtime, accept(runtime, mail.as_bytes(), project_id))
    [entry] = entries(runtime)
    assert entry.body == "Templating done."
    assert "Supplier margin 30%" in entry.internal


def test_a_job_taken_off_the_queue_by_a_worker_that_died_is_queued_again(runtime, project_id, redis_url):
    connection = Redis.from_url(redis_url)
    inbound_id = accept(runtime, update_email(), project_id)
    job = enqueue_ingest(connection, inbound_id)
    connection.lrem(Queue(INGEST, connection=connection).key, 0, job.id)  # popped; the worker died before starting
    assert Job.fetch(job.id, connection=connection).get_status() == JobStatus.QUEUED
    assert requeue_pending(runtime, connection) == 1
    assert Queue(INGEST, connection=connection).job_ids == [job.id]


def test_winmail_dat_posts_the_files_inside_and_not_itself(runtime, project_id):
    from tests.feed.test_zoo_parts import outlook_with_winmail, winmail_dat

    winmail = winmail_dat([("KITCHE~1.PDF", b"%PDF-1.4 kitchen plan", "Kitchen plan – rev B.pdf")])
    mail = email_from_staff(outlook_with_winmail(winmail))
    ingest(runtime, accept(runtime, mail, project_id))
    with runtime.sessions() as db:
        [entry] = db.scalars(select(Entry)).all()
        assert [a.filename for a in entry.attachments] == ["Kitchen plan – rev B.pdf"]


def email_from_staff(raw: bytes) -> bytes:
    """Put our staff sender and project address on a message built elsewhere."""
    message = message_from_bytes(raw, policy=policy.compat32)
    for name, value in (("From", STAFF), ("To", ADDRESS), ("Subject", "Plans")):
        del message[name]
        message[name] = value
    return message.as_bytes()
