"""Staff-only lines never reach a client's page or a client's email."""

from __future__ import annotations

from sqlalchemy import select

from feed.db import transaction
from feed.digests import build_digest_email, digest_content
from feed.models import Entry, Member, utcnow


def test_internal_lines_are_not_on_the_page_nor_in_the_digest(app, build, sessions, settings, store):
    project = build.project("Holloway Kitchen")
    jane = build.member(project, Member.CLIENT)
    made = build.entry(project, "Worktop templated", body="Templating done.")
    with transaction(sessions) as db:
        db.get(Entry, made.id).internal = "Supplier margin 30%"
    browser = app.test_client()
    browser.get(f"/c/{jane.token}")
    page = browser.get(f"/p/{project.key}").get_data(as_text=True)
    assert "Templating done." in page and "Supplier margin" not in page
    with sessions() as db:
        member = db.scalar(select(Member).where(Member.id == jane.id))
        email = build_digest_email(digest_content(db, member, utcnow()), settings, store)
    assert "Templating done." in email.as_string() and "Supplier margin" not in email.as_string()
