"""The timeline page: what a client sees, in what order, under which day."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest

from feed.models import Member
from portal.timeline import day_heading, human_size


@pytest.fixture
def project(build):  # type: ignore[no-untyped-def]
    return build.project("Kitchen extension")


@pytest.fixture
def view(client, build):  # type: ignore[no-untyped-def]
    """Return a function that opens a project's timeline as a new client of it and returns the HTML."""

    def open_timeline(project) -> str:  # type: ignore[no-untyped-def]
        client.get(f"/c/{build.member(project).token}")
        response = client.get(f"/p/{project.key}")
        assert response.status_code == 200
        return response.get_data(as_text=True)

    return open_timeline


@pytest.fixture
def page(view, project):  # type: ignore[no-untyped-def]
    """Return a function that opens the fixture project's timeline."""
    return lambda: view(project)


def _headings(html: str) -> list[str]:
    return re.findall(r'<h2 class="day-heading"><time[^>]*>([^<]+)</time>', html)


def _titles(html: str) -> list[str]:
    return re.findall(r'<h3 class="entry-title">([^<]+)</h3>', html)


def test_entries_are_grouped_by_day_newest_first(build, project, page) -> None:
    now = datetime.now(UTC)
    build.entry(project, "Skip delivered", at=datetime(2025, 11, 24, 9, 0, tzinfo=UTC))
    build.entry(project, "Plasterer booked", at=now - timedelta(days=1))
    build.entry(project, "Scaffold up", at=datetime(2025, 11, 24, 15, 30, tzinfo=UTC))
    build.entry(project, "Windows fitted", at=now)

    html = page()

    assert _headings(html) == ["Today", "Yesterday", "Monday 24 November 2025"]
    assert _titles(html) == ["Windows fitted", "Plasterer booked", "Scaffold up", "Skip delivered"]


def test_same_moment_entries_keep_the_newest_posted_first(build, project, page) -> None:
    moment = datetime(2025, 11, 24, 9, 0, tzinfo=UTC)
    build.entry(project, "First", at=moment)
    build.entry(project, "Second", at=moment)

    assert _titles(page()) == ["Second", "First"]


def test_days_and_times_follow_the_project_time_zone(build, view) -> None:
    sydney = build.project("Harbour flat", timezone="Australia/Sydney")
    # 14:30 UTC on Sunday 23 November is 01:30 on Monday 24 November in Sydney (UTC+11).
    build.entry(sydney, "Early start", at=datetime(2025, 11, 23, 14, 30, tzinfo=UTC))

    html = view(sydney)

    assert _headings(html) == ["Monday 24 November 2025"]
    assert ">01:30</time>" in html


def test_an_unknown_time_zone_falls_back_to_the_default(build, view) -> None:
    odd = build.project("Somewhere", timezone="Mars/Olympus_Mons")
    build.entry(odd, "Still shown", at=datetime(2025, 7, 1, 12, 0, tzinfo=UTC))

    html = view(odd)

    assert _headings(html) == ["Tuesday 1 July 2025"]
    assert ">13:00</time>" in html  # Europe/London in summer


def test_day_heading_names_today_yesterday_and_other_days() -> None:
    today = date(2025, 11, 26)

    assert day_heading(today, today) == "Today"
    assert day_heading(date(2025, 11, 25), today) == "Yesterday"
    assert day_heading(date(2025, 11, 24), today) == "Monday 24 November 2025"
    assert day_heading(date(2024, 11, 26), today) == "Tuesday 26 November 2024"


def test_hidden_entries_are_never_shown(build, project, page) -> None:
    build.entry(project, "Visible update")
    build.entry(project, "Internal snag list", hidden=True)

    html = page()

    assert "Visible update" in html
    assert "Internal snag list" not in html


def test_empty_timeline_says_an_email_will_come(page) -> None:
    assert "No updates yet — you'll get an email when there are." in page()


def test_entry_shows_badge_author_time_and_escaped_body(build, project, page) -> None:
    author = build.member(project, role=Member.OWNER, name="Sam Site")
    build.entry(
        project,
        "Worktop choice needed",
        kind="decision",
        author=author,
        at=datetime(2025, 11, 24, 14, 5, tzinfo=UTC),
        body="Line one <script>alert(1)</script>\nLine two",
    )
    build.entry(project, "Plain update", kind="update")

    html = page()

    assert '<span class="badge badge-decision">Decision</span>' in html
    assert html.count('class="badge') == 1
    assert "Sam Site · <time" in html
    assert ">14:05</time>" in html
    assert "<script>" not in html
    assert '<div class="body">Line one &lt;script&gt;alert(1)&lt;/script&gt;\nLine two</div>' in html


def test_photos_are_lazy_thumbnails_linking_to_the_full_photo(build, project, page) -> None:
    entry = build.entry(project, "Kitchen walls")
    photo = build.photo(entry)

    html = page()

    link = re.search(rf'<a href="/media/{photo.key}/full"><img ([^>]+)></a>', html)
    assert link, html
    image = link.group(1)
    assert f'src="/media/{photo.key}/thumb"' in image
    assert 'loading="lazy"' in image
    assert 'width="12"' in image and 'height="9"' in image


def test_videos_play_inline_with_their_poster(build, project, page) -> None:
    video = build.video(build.entry(project, "Walkthrough"))

    html = page()

    tag = re.search(r"<video ([^>]+)>\s*<source ([^>]+)>", html)
    assert tag, html
    assert "controls" in tag.group(1) and "playsinline" in tag.group(1)
    assert 'preload="metadata"' in tag.group(1)
    assert f'poster="/media/{video.key}/poster"' in tag.group(1)
    assert f'src="/media/{video.key}/video"' in tag.group(2)
    assert 'type="video/mp4"' in tag.group(2)


def test_documents_are_download_links_with_name_and_size(build, project, page) -> None:
    entry = build.entry(project, "Revised quote")
    document = build.document(entry, "Quote – rev B.pdf", b"%PDF" + bytes(340 * 1024))

    html = page()

    assert f'href="/media/{document.key}/download"' in html
    assert "Quote – rev B.pdf" in html
    assert "340 KB" in html
    assert ">PDF<" in html


def test_human_sizes_read_like_a_download_link() -> None:
    assert human_size(10) == "1 KB"
    assert human_size(340 * 1024) == "340 KB"
    assert human_size(2 * 1024 * 1024) == "2 MB"
    assert human_size(int(2.4 * 1024 * 1024)) == "2.4 MB"
