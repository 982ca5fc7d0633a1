"""Undo from a receipt: the link opens a page; only its button, with a CSRF token, hides the entry."""

from __future__ import annotations

import re
import time

from itsdangerous import URLSafeTimedSerializer

from feed.keys import UNDO_SALT, undo_token
from feed.models import Entry, Member


def csrf_token(page: str) -> str:
    [token] = re.findall(r'name="csrf_token" value="([^"]+)"', page)
    return token


def test_opening_the_undo_link_only_asks(client, build, settings, sessions):
    project = build.project("Holloway Kitchen")
    entry = build.entry(project, "Wrong photos")
    page = client.get(f"/undo/{undo_token(settings, entry.key)}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Hide this update?" in html and "Wrong photos" in html and '<form method="post">' in html
    with sessions() as db:
        assert db.get(Entry, entry.id).hidden is False


def test_the_button_hides_the_entry_from_the_client(client, build, settings, sessions):
    project = build.project("Holloway Kitchen")
    jane = build.member(project, Member.CLIENT)
    entry = build.entry(project, "Wrong photos")
    url = f"/undo/{undo_token(settings, entry.key)}"
    done = client.post(url, data={"csrf_token": csrf_token(client.get(url).get_data(as_text=True))})
    assert done.status_code == 200 and "Hidden" in done.get_data(as_text=True)
    with sessions() as db:
        assert db.get(Entry, entry.id).hidden is True
    jane_client = client.application.test_client()
    jane_client.get(f"/c/{jane.token}")
    assert "Wrong photos" not in jane_client.get(f"/p/{project.key}").get_data(as_text=True)


def test_a_post_without_the_pages_token_changes_nothing(client, build, settings, sessions):
    project = build.project()
    entry = build.entry(project, "Keep me")
    url = f"/undo/{undo_token(settings, entry.key)}"
    assert client.post(url).status_code == 400
    assert client.post(url, data={"csrf_token": "forged"}).status_code == 400
    with sessions() as db:
        assert db.get(Entry, entry.id).hidden is False


def test_an_expired_link_says_so_and_changes_nothing(client, build, settings, sessions, monkeypatch):
    project = build.project()
    entry = build.entry(project, "Old news")
    # Sign as if 25 hours ago: the token carries its own signing time.
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now - 25 * 3600)
    old = undo_token(settings, entry.key)
    monkeypatch.undo()
    page = client.get(f"/undo/{old}")
    assert page.status_code == 200 and "This undo link has expired" in page.get_data(as_text=True)
    assert client.post(f"/undo/{old}").status_code == 400  # no form, no token: nothing happens
    with sessions() as db:
        assert db.get(Entry, entry.id).hidden is False


def test_a_forged_undo_link_is_not_found(client, build):
    project = build.project()
    entry = build.entry(project)
    forged = URLSafeTimedSerializer("not-our-key", salt=UNDO_SALT).dumps(entry.key)
    assert client.get(f"/undo/{forged}").status_code == 404
    assert client.get("/undo/garbage").status_code == 404
