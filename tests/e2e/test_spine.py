"""End to end on real processes: the samples over SMTP, the timeline and media as a client, the digest."""

from __future__ import annotations

import io
import json
import re
import smtplib
import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from urllib.parse import urlsplit

import pytest
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from feed.models import Attachment, Decision, Entry, Inbound, Project
from tests.conftest import sample
from tests.processes import base_env, portal_session, running, workfeed
from workfeed.sending import envelope_from, with_crlf

PROJECT = "holloway-kitchen@updates.example.com"
POSTED = [
    "01-iphone-three-photos-exif-rotated.eml",
    "02-iphone-heic-photo.eml",
    "03-gmail-reply-inline-image-and-pdf.eml",
    "04-outlook-html-only-decision.eml",
    "05-stage-change-latin1-umlaut-filename.eml",
    "06-delay-with-iphone-video.eml",
    "07-variation-pdf-rfc2231-filename.eml",
    "08-milestone-handover-mp4-and-photos.eml",
]
AUTOMATED = ["09-out-of-office-auto-reply.eml", "10-bounce-dsn.eml"]
EXIF_ORIENTATION = 0x0112
EXIF_GPS_IFD = 0x8825


def smtp_send(env: dict[str, str], raw: bytes, to: str = PROJECT) -> dict:
    with smtplib.SMTP("127.0.0.1", int(env["GATEWAY_PORT"]), timeout=30) as client:
        return client.sendmail(envelope_from(raw), [to], with_crlf(raw))


def wait_until_processed(sessions, count: int, timeout: float = 120) -> list[Inbound]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with sessions() as db:
            rows = list(db.scalars(select(Inbound).order_by(Inbound.id)))
        if len(rows) >= count and all(row.status != Inbound.QUEUED for row in rows):
            return rows
        time.sleep(0.2)
    raise AssertionError(f"messages still waiting after {timeout}s: {[(r.id, r.status) for r in rows]}")


def entries_by_subject(sessions) -> dict[str, Entry]:
    with sessions() as db:
        entries = db.scalars(
            select(Entry).options(selectinload(Entry.attachments).selectinload(Attachment.renditions))
        ).all()
        return {entry.title: entry for entry in entries}


def originals_by_filename(raw: bytes) -> dict[str, bytes]:
    parsed = message_from_bytes(raw, policy=policy.default)
    return {part.get_filename(): part.get_content() for part in parsed.iter_attachments()}


def upright_size(jpeg: bytes) -> tuple[int, int]:
    image = Image.open(io.BytesIO(jpeg))
    width, height = image.size
    return (height, width) if image.getexif().get(EXIF_ORIENTATION) in (5, 6, 7, 8) else (width, height)


def assert_no_metadata(served: bytes) -> None:
    image = Image.open(io.BytesIO(served))
    exif = image.getexif()
    assert EXIF_GPS_IFD not in exif and not exif.get_ifd(EXIF_GPS_IFD)
    assert len(exif) == 0
    assert "exif" not in image.info and "xmp" not in image.info


@pytest.fixture
def system(tmp_path, database_url, redis_url, mail_sink):
    env = base_env(tmp_path, database_url, redis_url, OUTBOUND_SMTP_URL=f"smtp://127.0.0.1:{mail_sink.port}")
    with running(env, "smtp", "web", "worker", logs=tmp_path / "logs"):
        yield env


def create_project(env: dict[str, str], *args: str) -> dict:
    return json.loads(workfeed(env, "project", "create", *args, "--json").stdout)


def create_holloway(
    env: dict[str, str], *, staff: bool = True, client: str = "Jane Holloway <jane.holloway@mailbox.example>"
) -> dict:
    """The samples' project: Dan owns it, Priya posts too, Jane is the client."""
    extra = ["--staff", "priya@buildco.example"] if staff else []
    return create_project(env, "Holloway Kitchen", "--owner", "dan.mercer@buildco.example", *extra, "--client", client)


def test_samples_become_a_private_timeline_and_a_digest(system, sessions, mail_sink):
    env = system
    holloway = create_holloway(env)
    assert holloway["address"] == PROJECT
    [jane] = holloway["clients"]
    other = create_project(
        env, "Other House", "--owner", "olga@buildco.example", "--client", "Bob <bob@mailbox.example>"
    )

    for name in POSTED + AUTOMATED:
        assert smtp_send(env, sample(name)) == {}, name

    with pytest.raises(smtplib.SMTPDataError) as stranger:
        smtp_send(env, sample("11-stranger-not-staff.eml"))
    assert stranger.value.smtp_code == 550
    assert (
        b"5.7.1 someone@elsewhere.example is not on the team for holloway-kitchen@updates.example.com"
        in stranger.value.smtp_error
    )

    with pytest.raises(smtplib.SMTPRecipientsRefused) as unknown:
        smtp_send(env, sample("12-unknown-project-address.eml"), to="no-such-project@updates.example.com")
    code, reply = unknown.value.recipients["no-such-project@updates.example.com"]
    assert code == 550 and reply.startswith(b"5.1.1 No project uses the address")

    rows = wait_until_processed(sessions, len(POSTED) + len(AUTOMATED))
    assert [row.status for row in rows] == [Inbound.POSTED] * len(POSTED) + [Inbound.AUTOMATED] * len(AUTOMATED)
    assert "old.address@mailbox.example" in rows[-1].reason
    entries = entries_by_subject(sessions)
    assert len(entries) == len(POSTED)

    jane_browser = portal_session(jane["link"])
    with sessions() as db:
        project_key = db.scalar(select(Project.key).where(Project.address == "holloway-kitchen"))
    timeline_url = f"{env['PUBLIC_URL']}/p/{project_key}"
    page = jane_browser.get(timeline_url, timeout=10)
    assert page.status_code == 200
    html = page.text

    def media(attachment, name: str):
        response = jane_browser.get(f"{env['PUBLIC_URL']}/media/{attachment.key}/{name}", timeout=10)
        assert response.status_code == 200, (attachment.filename, name, response.status_code)
        return response

    # 01: three photos, upright, no GPS in any served byte, the iPhone signature gone.
    demolition = entries["Demolition done"]
    assert "Sent from my iPhone" not in demolition.body and "Sent from my iPhone" not in html
    originals = originals_by_filename(sample(POSTED[0]))
    assert sorted(a.filename for a in demolition.attachments) == sorted(originals)
    portraits = 0
    for attachment in demolition.attachments:
        assert attachment.kind == "image"
        expected_w, expected_h = upright_size(originals[attachment.filename])
        for name in ("full", "web", "thumb"):
            served = media(attachment, name).content
            assert_no_metadata(served)
            width, height = Image.open(io.BytesIO(served)).size
            assert (width > height) == (expected_w > expected_h), (attachment.filename, name)
        assert f"/media/{attachment.key}/thumb" in html and f"/media/{attachment.key}/full" in html
        portraits += expected_h > expected_w
    assert portraits >= 1  # the Orientation=6 photo is stored landscape and must be served portrait

    # 02: the HEIC is viewable in any browser, as JPEG.
    [heic] = entries["First fix electrics"].attachments
    full = media(heic, "full")
    assert full.headers["Content-Type"] == "image/jpeg"
    assert Image.open(io.BytesIO(full.content)).format == "JPEG"

    # 03: the quote gone, the inline image once, the PDF downloadable byte for byte.
    worktop = entries["Worktop templating"]
    assert "wrote:" not in worktop.body and "wrote:" not in html
    assert sorted(a.kind for a in worktop.attachments) == ["document", "image"]
    [pdf] = [a for a in worktop.attachments if a.kind == "document"]
    download = jane_browser.get(f"{env['PUBLIC_URL']}/media/{pdf.key}/download", timeout=10)
    assert download.status_code == 200
    assert download.content == originals_by_filename(sample(POSTED[2]))["template-drawing.pdf"]
    assert "attachment" in download.headers["Content-Disposition"]

    # 04: HTML-only Outlook mail as clean text: no script, no tracking pixel.
    splashback = entries["Splashback tile colour"]
    assert splashback.kind == "decision"
    assert splashback.body.strip() and "<" not in splashback.body
    assert "script" not in splashback.body.lower() and splashback.attachments == []
    assert "<script" not in html.lower()

    # 05: Latin-1 text and the umlaut filename intact.
    [stage] = [e for t, e in entries.items() if t.startswith("Installation")]
    assert "Küche" in stage.title and "Küche" in html
    assert stage.kind == "stage"
    assert [a.filename for a in stage.attachments] == ["Küche – Montage.jpg"]
    assert not any(ch in stage.body for ch in "\ufffd")

    # 06 and 08: videos playable, with posters.
    for title in ("Worktop delivery moved to 12 Dec", "Handover"):
        [video] = [a for a in entries[title].attachments if a.kind == "video"]
        assert media(video, "video").headers["Content-Type"] == "video/mp4"
        assert media(video, "poster").headers["Content-Type"] == "image/jpeg"
        assert f"/media/{video.key}/video" in html and f"/media/{video.key}/poster" in html
        partial = jane_browser.get(
            f"{env['PUBLIC_URL']}/media/{video.key}/video", headers={"Range": "bytes=0-99"}, timeout=10
        )
        assert partial.status_code == 206 and len(partial.content) == 100
    assert sorted(a.kind for a in entries["Handover"].attachments) == ["image", "image", "video"]

    # 07: the RFC 2231 filename intact, in the page and in the download.
    [variation_pdf] = entries["Extra socket on island (+£180)"].attachments
    assert variation_pdf.filename == "Variation V-03 – island socket.pdf"
    assert "Variation V-03 – island socket.pdf" in html
    disposition = jane_browser.get(f"{env['PUBLIC_URL']}/media/{variation_pdf.key}/download", timeout=10).headers[
        "Content-Disposition"
    ]
    assert "Variation%20V-03%20%E2%80%93%20island%20socket.pdf" in disposition

    # Each posted email got its receipt, the decision and the variation went to Jane at once,
    # and 09 and 10 were never answered.
    receipts = [m for m in mail_sink.messages if m.message["Subject"].startswith("Posted")]
    assert len(receipts) == len(POSTED)
    assert {r for m in receipts for r in m.recipients} == {"dan.mercer@buildco.example", "priya@buildco.example"}
    asked = sorted(m.message["Subject"] for m in mail_sink.messages if m not in receipts)
    assert asked == [
        "Holloway Kitchen: a change needs your approval – Extra socket on island (+£180)",
        "Holloway Kitchen: needs your decision – Splashback tile colour",
    ]
    # The digest: sent into a real SMTP sink, its link followed as the client.
    workfeed(env, "digest", "send", "--now")
    to_jane = [
        m
        for m in mail_sink.messages
        if m.recipients == ["jane.holloway@mailbox.example"] and "update" in m.message["Subject"]
    ]
    assert len(to_jane) == 1
    digest = to_jane[0].message
    assert digest["Auto-Submitted"] == "auto-generated"
    text = digest.get_body(("plain",)).get_content()
    for title in ("Demolition done", "Handover", "Splashback tile colour"):
        assert title in text
    [link] = re.findall(r"https?://\S+/c/\S+", text)
    assert link == jane["link"]
    fresh = portal_session(link)
    assert "Demolition done" in fresh.get(timeline_url, timeout=10).text
    assert not [m for m in mail_sink.messages if "bob@mailbox.example" in m.recipients]  # nothing new for Bob

    # Another project's client sees none of it: pages, media and downloads are 404.
    bob = portal_session(other["clients"][0]["link"])
    assert bob.get(timeline_url, timeout=10).status_code == 404
    for entry in entries.values():
        for attachment in entry.attachments:
            for name in ("full", "thumb", "video", "poster", "download"):
                assert bob.get(f"{env['PUBLIC_URL']}/media/{attachment.key}/{name}", timeout=10).status_code == 404
    anonymous_path = urlsplit(timeline_url).path
    assert portal_session(env["PUBLIC_URL"] + "/").get(env["PUBLIC_URL"] + anonymous_path).status_code == 404


def test_client_sees_photos_and_video_in_a_real_browser(system, sessions, tmp_path):
    from tests.browser import phone_page

    env = system
    holloway = create_holloway(env, staff=False, client="Jane <jane.holloway@mailbox.example>")
    for name in (POSTED[0], POSTED[5]):
        smtp_send(env, sample(name))
    wait_until_processed(sessions, 2)
    with phone_page() as page:
        page.goto(holloway["clients"][0]["link"])
        page.wait_for_load_state("networkidle")
        assert page.title()
        assert "Demolition done" in page.inner_text("body")
        images = page.eval_on_selector_all("img", "els => els.map(e => [e.currentSrc, e.complete, e.naturalWidth])")
        assert len(images) == 3  # the three photos; the video shows its poster
        assert all(complete and width > 0 for _, complete, width in images), images
        assert "/poster" in page.get_attribute("video", "poster")
        page.wait_for_function("document.querySelector('video') && document.querySelector('video').readyState >= 1")
        assert page.evaluate("document.querySelector('video').videoWidth") > 0
        # Readable on a phone: nothing wider than the screen.
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(path=str(tmp_path / "timeline.png"), full_page=True)
        first_photo = page.locator("a[href*='/full']").first
        first_photo.click()
        page.wait_for_load_state("load")
        assert page.evaluate("document.images[0].naturalWidth") > 0


def test_a_decision_reaches_the_client_and_her_emailed_approval_is_on_the_record(system, sessions, mail_sink):
    env = system
    holloway = create_holloway(env)
    smtp_send(env, sample("04-outlook-html-only-decision.eml"))
    asked = wait_for_mail(mail_sink, lambda m: m.recipients == ["jane.holloway@mailbox.example"])
    assert "needs your decision" in asked["Subject"]
    reply = EmailMessage()
    reply["From"] = "Jane Holloway <jane.holloway@mailbox.example>"
    reply["To"] = asked["Reply-To"]
    reply["Subject"] = f"Re: {asked['Subject']}"
    reply["In-Reply-To"] = asked["Message-ID"].strip()
    reply["Message-ID"] = "<jane-approves@mailbox.example>"
    reply.set_content("Approved\n\nOn Thu, 27 Nov 2025 at 16:00, Dan Mercer wrote:\n> Sage or Chalk?\n")
    smtp_send(env, reply.as_bytes(), to=str(asked["Reply-To"]))
    told = wait_for_mail(mail_sink, lambda m: "Jane Holloway approved" in m.message["Subject"])
    assert told["Subject"] == "Holloway Kitchen: Jane Holloway approved: Splashback tile colour"
    with sessions() as db:
        decision = db.scalar(select(Decision))
        assert (decision.state, decision.answered_via, decision.answered_by.email) == (
            "approved",
            "email",
            "jane.holloway@mailbox.example",
        )
        project_key = db.scalar(select(Project.key))
    # On Jane's own timeline, with who and how, and no longer waiting for her.
    page = portal_session(holloway["clients"][0]["link"]).get(f"{env['PUBLIC_URL']}/p/{project_key}", timeout=10).text
    assert "Approved by Jane Holloway (by email)" in page and "Needs your decision" not in page


def test_the_client_approves_with_one_tap_in_a_real_browser(system, sessions, mail_sink, tmp_path):
    from tests.browser import phone_page

    env = system
    holloway = create_holloway(env, staff=False, client="Jane <jane.holloway@mailbox.example>")
    smtp_send(env, sample("04-outlook-html-only-decision.eml"))
    wait_until_processed(sessions, 1)
    with phone_page() as page:
        page.goto(holloway["clients"][0]["link"])
        assert "Needs your decision" in page.inner_text("main")
        page.screenshot(path=str(tmp_path / "decision.png"), full_page=True)
        page.click("button[value=approve]")
        page.wait_for_load_state("load")
        assert "Needs your decision" not in page.inner_text("main")
        assert "Approved by Jane (on the website)" in page.inner_text("main")
    with sessions() as db:
        assert db.scalar(select(Decision)).state == "approved"
    wait_for_mail(mail_sink, lambda m: "Jane approved" in m.message["Subject"])


def wait_for_mail(mail_sink, wanted, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [m for m in mail_sink.messages if wanted(m)]
        if found:
            return found[-1].message
        time.sleep(0.1)
    raise AssertionError(f"no such mail within {timeout}s: {[m.message['Subject'] for m in mail_sink.messages]}")
