"""Digests end to end: selection, the email, the weekly schedule, sending through a real SMTP sink."""

from __future__ import annotations

import dataclasses
import io
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from PIL import Image
from redis import Redis
from rq import Queue, SimpleWorker
from sqlalchemy import select

from feed.jobs import DIGESTS as DIGESTS_QUEUE
from feed.mail import SmtpMailer
from feed.models import Attachment, Digest, Entry, Member, Project, Rendition
from workers.digests import (
    ALREADY_RECORDED,
    NOT_SENT,
    NOTHING_NEW,
    SENT,
    deliver_digest,
    deliver_planned,
    send_digests,
)
from workers.runtime import Runtime
from workers.schedule import build_cron

# Friday 4 December 2026; London is on UTC in winter.
FRIDAY_1601 = datetime(2026, 12, 4, 16, 1, tzinfo=UTC)
MONDAY = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def jpeg(seed: int, size: tuple[int, int] = (480, 360)) -> bytes:
    colour = ((seed * 67) % 256, (seed * 131) % 256, (seed * 29) % 256)
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG")
    return out.getvalue()


def add_project(session, name="Holloway Kitchen", address="holloway", **fields) -> Project:
    project = Project(name=name, address=address, **fields)
    session.add(project)
    session.flush()
    return project


def add_member(session, project, email, role=Member.CLIENT, name="") -> Member:
    member = Member(project=project, email=email, role=role, name=name)
    session.add(member)
    session.flush()
    return member


_seeds = iter(range(1, 10_000))


def add_entry(session, store, project, title, *, posted_at, photos=0, videos=0, **fields) -> Entry:
    entry = Entry(project=project, title=title, posted_at=posted_at, occurred_at=posted_at, **fields)
    for position in range(photos + videos):
        is_video = position >= photos
        thumb = jpeg(next(_seeds))
        attachment = Attachment(
            position=position,
            kind=Attachment.VIDEO if is_video else Attachment.IMAGE,
            filename=f"clip{position}.mp4" if is_video else f"IMG_{position}.jpg",
            content_type="video/mp4" if is_video else "image/jpeg",
            size=len(thumb),
            sha256=store.put(thumb + b"original"),
        )
        attachment.renditions.append(
            Rendition(name="thumb", sha256=store.put(thumb), content_type="image/jpeg", size=len(thumb))
        )
        entry.attachments.append(attachment)
    session.add(entry)
    session.flush()
    return entry


@pytest.fixture
def services(runtime, mail_sink) -> Runtime:
    return dataclasses.replace(runtime, mailer=SmtpMailer(mail_sink.url))


@pytest.fixture
def holloway(sessions, store):
    """A London project (Fridays 16:00) with a client, a staff member and three visible entries this week."""
    with sessions.begin() as session:
        project = add_project(session)
        client = add_member(session, project, "sarah@client.example", name="Sarah Holloway")
        staff = add_member(session, project, "sam@builder.example", role=Member.STAFF, name="Sam Patel")
        day = timedelta(days=1)
        add_entry(
            session,
            store,
            project,
            "Kitchen units delivered",
            posted_at=FRIDAY_1601 - 3 * day,
            photos=2,
            kind="milestone",
            author_id=staff.id,
            body="All twelve carcasses are stacked in the dining room.",
        )
        add_entry(session, store, project, "Walk-through of the first fix", posted_at=FRIDAY_1601 - 2 * day, videos=1)
        add_entry(
            session,
            store,
            project,
            "Tile choice for the splashback",
            posted_at=FRIDAY_1601 - day,
            kind="decision",
            body="Please pick between the zellige and the metro tile by Wednesday. " * 6,
        )
        return {"project": project.id, "client": client.id, "staff": staff.id, "token": client.access_token}


def html_of(message) -> str:
    return message.get_body(("html",)).get_content()


def text_of(message) -> str:
    return message.get_body(("plain",)).get_content()


def test_digest_arrives_with_text_html_inline_images_and_personal_link(services, holloway, mail_sink, sessions):
    result = deliver_digest(services, holloway["client"], "week-2026-12-04", FRIDAY_1601)

    assert result.status == SENT and result.entry_count == 3
    [mail] = mail_sink.messages
    message = mail.message
    assert mail.recipients == ["sarah@client.example"]
    assert mail.envelope_from == f"bounces+digest-{result.digest_id}@updates.example.com"
    assert message["Subject"] == "Holloway Kitchen: 3 updates this week"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["From"].addresses[0].addr_spec == "updates@updates.example.com"
    assert message["To"].addresses[0].addr_spec == "sarah@client.example"
    with sessions() as session:
        reply_key = session.get(Member, holloway["client"]).reply_key
    assert message["Reply-To"] == f"reply+{reply_key}@updates.example.com"
    assert message["Date"] is not None
    assert re.fullmatch(r"<[^@>]+@updates\.example\.com>", message["Message-ID"])
    assert message.get_content_type() == "multipart/alternative"

    link = f"http://127.0.0.1:5000/c/{holloway['token']}"
    html, text = html_of(message), text_of(message)
    assert link in text and link in html
    assert "Open your project timeline" in html
    assert "Kitchen units delivered" in text and "Tile choice for the splashback" in html
    assert "Decision needed" in html and "Milestone" in html and "Sam Patel" in html
    assert "Tue 1 Dec" in html and "Thu 3 Dec" in html
    assert "Please pick between the zellige" in html and "…" in html
    assert "<img" in html and "http" not in "".join(re.findall(r'src="([^"]+)"', html))

    images = [part for part in message.walk() if part.get_content_maintype() == "image"]
    assert len(images) == 3  # two photos and one video poster
    referenced = set(re.findall(r'src="cid:([^"]+)"', html))
    assert referenced == {part["Content-ID"].strip("<>") for part in images}
    assert all(Image.open(io.BytesIO(part.get_content())).size == (352, 352) for part in images)

    with sessions() as session:
        digest = session.scalars(select(Digest)).one()
        assert digest.message_id == message["Message-ID"]
        assert digest.sent_at is not None and digest.entry_count == 3


def test_no_new_entries_means_no_email_and_no_record(services, sessions, mail_sink):
    with sessions.begin() as session:
        client = add_member(session, add_project(session), "quiet@client.example")
        client_id = client.id

    result = deliver_digest(services, client_id, "week-2026-12-04", FRIDAY_1601)

    assert result.status == NOTHING_NEW
    assert mail_sink.messages == []
    with sessions() as session:
        assert session.scalars(select(Digest)).all() == []


def test_same_period_twice_sends_once(services, holloway, mail_sink):
    first = deliver_digest(services, holloway["client"], "week-2026-12-04", FRIDAY_1601)
    second = deliver_digest(services, holloway["client"], "week-2026-12-04", FRIDAY_1601 + timedelta(minutes=5))

    assert (first.status, second.status) == (SENT, ALREADY_RECORDED)
    assert len(mail_sink.messages) == 1


def test_next_period_lists_only_new_entries(services, holloway, mail_sink, sessions, store):
    deliver_digest(services, holloway["client"], "week-2026-12-04", FRIDAY_1601)
    with sessions.begin() as session:
        project = session.get(Project, holloway["project"])
        add_entry(session, store, project, "Worktops templated", posted_at=FRIDAY_1601 + timedelta(days=3))
    next_week = FRIDAY_1601 + timedelta(days=7)

    result = deliver_digest(services, holloway["client"], "week-2026-12-11", next_week)

    assert result.status == SENT and result.entry_count == 1
    message = mail_sink.messages[-1].message
    assert message["Subject"] == "Holloway Kitchen: 1 update this week"
    assert "Worktops templated" in text_of(message)
    assert "Kitchen units delivered" not in text_of(message) + html_of(message)


def test_hidden_entries_never_reach_a_digest(services, sessions, store, mail_sink):
    with sessions.begin() as session:
        project = add_project(session)
        client_id = add_member(session, project, "sarah@client.example").id
        add_entry(session, store, project, "Internal: snag list for the electrician", posted_at=MONDAY, hidden=True)
        add_entry(session, store, project, "Plastering finished", posted_at=MONDAY)

    result = deliver_digest(services, client_id, "week-2026-12-04", FRIDAY_1601)

    assert result.entry_count == 1
    message = mail_sink.messages[0].message
    assert "snag list" not in text_of(message) + html_of(message) + message["Subject"]


def test_hidden_only_means_nothing_new(services, sessions, store, mail_sink):
    with sessions.begin() as session:
        project = add_project(session)
        client_id = add_member(session, project, "sarah@client.example").id
        add_entry(session, store, project, "Internal note", posted_at=MONDAY, hidden=True)

    assert deliver_digest(services, client_id, "week-2026-12-04", FRIDAY_1601).status == NOTHING_NEW
    assert mail_sink.messages == []


def test_client_of_another_project_never_sees_its_entries(services, holloway, sessions, store, mail_sink):
    with sessions.begin() as session:
        other = add_project(session, name="Marsh Lane Loft", address="marsh")
        add_member(session, other, "tom@other.example")
        add_entry(session, store, other, "Velux windows fitted", posted_at=MONDAY)

    results = deliver_planned(services, FRIDAY_1601)

    assert sorted(r.status for r in results) == [SENT, SENT]
    by_recipient = {mail.recipients[0]: mail.message for mail in mail_sink.messages}
    tom, sarah = by_recipient["tom@other.example"], by_recipient["sarah@client.example"]
    assert "Velux" in text_of(tom) and "Kitchen units" not in text_of(tom) + html_of(tom)
    assert "Velux" not in text_of(sarah) + html_of(sarah)
    assert tom["Subject"] == "Marsh Lane Loft: 1 update this week"


def test_staff_get_no_digest(services, holloway, mail_sink):
    assert deliver_digest(services, holloway["staff"], "week-2026-12-04", FRIDAY_1601).status != SENT
    deliver_planned(services, FRIDAY_1601)

    assert [mail.recipients for mail in mail_sink.messages] == [["sarah@client.example"]]


def test_photos_are_capped_per_entry_and_per_email(services, sessions, store, mail_sink):
    with sessions.begin() as session:
        project = add_project(session)
        client_id = add_member(session, project, "sarah@client.example").id
        for number in range(4):
            add_entry(session, store, project, f"Day {number}", posted_at=MONDAY + timedelta(hours=number), photos=4)

    deliver_digest(services, client_id, "week-2026-12-04", FRIDAY_1601)

    message = mail_sink.messages[0].message
    images = [part for part in message.walk() if part.get_content_maintype() == "image"]
    assert len(images) == 9
    html = html_of(message)
    assert html.count("+ 1 more photo on your timeline") == 3
    assert "+ 4 more photos on your timeline" in html  # the oldest entry, after the budget ran out
    assert html.index("Day 3") < html.index("Day 0")  # newest first


def test_digest_is_recorded_and_committed_before_it_is_sent(services, holloway, mail_sink, sessions):
    seen_at_send: list[tuple[str, object]] = []

    class WatchingMailer:
        """Look at the database from another session at the moment of sending, then really send."""

        def send(self, message, *, envelope_from, recipients):
            with sessions() as session:
                seen_at_send.extend(session.execute(select(Digest.message_id, Digest.sent_at)).all())
            services.mailer.send(message, envelope_from=envelope_from, recipients=recipients)

    watched = dataclasses.replace(services, mailer=WatchingMailer())
    deliver_digest(watched, holloway["client"], "week-2026-12-04", FRIDAY_1601)

    assert seen_at_send == [(mail_sink.messages[0].message["Message-ID"], None)]


def test_unsendable_digest_is_forgotten_so_the_next_run_sends_it(services, holloway, mail_sink, sessions):
    mail_sink.refuse("sarah@client.example")
    [refused] = deliver_planned(services, FRIDAY_1601)
    with sessions() as session:
        assert session.scalars(select(Digest)).all() == []

    mail_sink.accept_all()
    [retried] = deliver_planned(services, FRIDAY_1601 + timedelta(minutes=5))

    assert (refused.status, retried.status) == (NOT_SENT, SENT)
    assert len(mail_sink.messages) == 1 and retried.entry_count == 3


def test_entries_of_an_unsent_week_roll_into_the_next_digest(services, holloway, sessions, store, mail_sink):
    with sessions.begin() as session:
        # A digest recorded but never confirmed sent (the process died mid-send).
        session.add(Digest(member_id=holloway["client"], period="week-2026-12-04", covers_until=FRIDAY_1601))

    result = deliver_digest(services, holloway["client"], "week-2026-12-11", FRIDAY_1601 + timedelta(days=7))

    assert result.status == SENT and result.entry_count == 3


@pytest.mark.parametrize(
    ("now", "period"),
    [
        (datetime(2026, 12, 4, 15, 59, tzinfo=UTC), None),  # Friday, a minute before the slot
        (datetime(2026, 12, 4, 16, 1, tzinfo=UTC), "week-2026-12-04"),
        (datetime(2026, 12, 6, 22, 0, tzinfo=UTC), "week-2026-12-04"),  # Sunday: catching up within the week
        (datetime(2026, 12, 7, 9, 0, tzinfo=UTC), None),  # Monday: last week's slot is never backfilled
        (datetime(2026, 6, 5, 14, 59, tzinfo=UTC), None),  # summer time: 15:59 in London
        (datetime(2026, 6, 5, 15, 1, tzinfo=UTC), "week-2026-06-05"),  # summer time: 16:01 in London
    ],
)
def test_weekly_slot_in_london(services, holloway, now, period):
    results = deliver_planned(services, now)

    assert [result.period for result in results] == ([period] if period else [])


def test_a_project_with_a_broken_slot_does_not_stop_the_others(services, holloway, sessions, store):
    with sessions.begin() as session:
        broken = add_project(session, name="Broken", address="broken", digest_time="25:00")
        add_member(session, broken, "x@client.example")
        add_entry(session, store, broken, "Anything", posted_at=MONDAY)

    results = deliver_planned(services, FRIDAY_1601)

    assert [(r.member_id, r.status) for r in results] == [(holloway["client"], SENT)]


def test_weekly_slot_honours_the_project_time_zone(services, sessions, store, mail_sink):
    with sessions.begin() as session:
        project = add_project(
            session,
            name="Brooklyn Brownstone",
            address="brooklyn",
            timezone="America/New_York",
            digest_weekday=0,
            digest_time="08:30",
        )
        add_member(session, project, "ana@client.example")
        add_entry(session, store, project, "Demolition done", posted_at=datetime(2026, 12, 3, 12, 0, tzinfo=UTC))

    # Monday 7 December: 08:30 in New York is 13:30 UTC.
    assert deliver_planned(services, datetime(2026, 12, 7, 13, 29, tzinfo=UTC)) == []
    [result] = deliver_planned(services, datetime(2026, 12, 7, 13, 31, tzinfo=UTC))

    assert (result.status, result.period) == (SENT, "week-2026-12-07")
    assert "Thu 3 Dec" in text_of(mail_sink.messages[0].message)


def test_forced_send_ignores_the_schedule_for_one_project(settings, holloway, sessions, store, mail_sink):
    with sessions.begin() as session:
        other = add_project(session, name="Marsh Lane Loft", address="marsh")
        add_member(session, other, "tom@other.example")
        add_entry(session, store, other, "Velux windows fitted", posted_at=MONDAY)
    relay = settings.with_changes(outbound_smtp_url=mail_sink.url)
    thursday = datetime(2026, 12, 3, 10, 0, 5, tzinfo=UTC)

    assert send_digests(relay, project_address="holloway", now=thursday) == []
    results = send_digests(relay, project_address="HOLLOWAY", force=True, now=thursday)

    assert [(r.status, r.period) for r in results] == [(SENT, "now-20261203T100005Z")]
    assert [mail.recipients for mail in mail_sink.messages] == [["sarah@client.example"]]
    with pytest.raises(LookupError):
        send_digests(relay, project_address="nowhere", force=True, now=thursday)


def test_titles_are_escaped_in_html_only(services, sessions, store, mail_sink):
    with sessions.begin() as session:
        project = add_project(session, name="Smith & Daughters")
        client_id = add_member(session, project, "sarah@client.example").id
        add_entry(session, store, project, "Tiles & <b>grout</b>", posted_at=MONDAY)

    deliver_digest(services, client_id, "week-2026-12-04", FRIDAY_1601)

    message = mail_sink.messages[0].message
    assert message["Subject"] == "Smith & Daughters: 1 update this week"
    assert "Tiles & <b>grout</b>" in text_of(message)
    assert "Tiles &amp; &lt;b&gt;grout&lt;/b&gt;" in html_of(message) and "<b>grout" not in html_of(message)


@pytest.fixture
def redis_connection(redis_url):
    connection = Redis.from_url(redis_url)
    yield connection
    connection.close()


@pytest.fixture
def job_environment(settings, mail_sink, monkeypatch):
    """The environment a worker process would have, pointing at the test database and the sink."""
    for name, value in {
        "DATA_DIR": settings.data_dir,
        "DATABASE_URL": settings.database_url,
        "MEDIA_DIR": settings.media_dir,
        "MAIL_DOMAIN": settings.mail_domain,
        "PUBLIC_URL": settings.public_url,
        "OUTBOUND_SMTP_URL": mail_sink.url,
    }.items():
        monkeypatch.setenv(name, str(value))


def test_schedule_enqueues_due_digests_that_a_worker_sends(
    redis_connection, job_environment, sessions, store, mail_sink
):
    today = {"digest_weekday": datetime.now(ZoneInfo("Europe/London")).weekday(), "digest_time": "00:00"}
    with sessions.begin() as session:
        project = add_project(session, **today)
        add_member(session, project, "sarah@client.example")
        an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
        add_entry(session, store, project, "Skim coat drying", posted_at=an_hour_ago, photos=1)
        quiet = add_project(session, name="Quiet Loft", address="quiet", **today)
        add_member(session, quiet, "nobody-new@client.example")
    cron = build_cron(redis_connection)
    schedule = {job.func_name: (job.queue_name, job.interval) for job in cron.get_jobs()}
    assert schedule["workers.digests.send_due_digests"] == ("digests", 300)

    enqueued = cron.enqueue_jobs()
    assert {job.func_name for job in enqueued} == set(schedule)
    queue = Queue(DIGESTS_QUEUE, connection=redis_connection)
    [job] = queue.get_jobs()
    SimpleWorker([queue], connection=redis_connection).work(burst=True)

    job.refresh()
    assert job.get_status() == "finished" and job.return_value() == 1
    assert [mail.recipients for mail in mail_sink.messages] == [["sarah@client.example"]]


def test_send_digest_job_runs_by_dotted_path(redis_connection, job_environment, holloway, mail_sink):
    queue = Queue(DIGESTS_QUEUE, connection=redis_connection)
    first = queue.enqueue("workers.digests.send_digest", holloway["client"], "now-test")
    second = queue.enqueue("workers.digests.send_digest", holloway["client"], "now-test")
    SimpleWorker([queue], connection=redis_connection).work(burst=True)

    assert "sent" in first.return_value() and ALREADY_RECORDED in second.return_value()
    assert len(mail_sink.messages) == 1
