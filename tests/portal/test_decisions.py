"""Answering decisions on the timeline: one tap each, CSRF-checked, on the record, staff told."""

from __future__ import annotations

import re

import pytest
from redis import Redis
from rq import Queue
from sqlalchemy import select

from feed.db import transaction
from feed.jobs import MAIL
from feed.models import Decision, Entry, Member
from portal import create_app


@pytest.fixture
def app(settings, redis_url):
    app = create_app(settings.with_changes(redis_url=redis_url))
    app.config["TESTING"] = True
    return app


def open_decision(build, sessions, project, title="Splashback tile colour", kind="decision"):
    made = build.entry(project, title, kind=kind, body="Sage or Chalk?")
    with transaction(sessions) as db:
        db.add(Decision(entry_id=made.id))
    return made


def signed_in(app, member):
    browser = app.test_client()
    browser.get(f"/c/{member.token}")
    return browser


def csrf(page: str) -> str:
    return re.findall(r'name="csrf_token" value="([^"]+)"', page)[0]


def press(browser, project, entry, **form):
    page = browser.get(f"/p/{project.key}").get_data(as_text=True)
    return browser.post(f"/d/{entry.key}/answer", data={"csrf_token": csrf(page), **form})


def test_the_client_sees_what_needs_them_at_the_top(app, build, sessions):
    project = build.project("Holloway Kitchen")
    jane = build.member(project, Member.CLIENT)
    build.entry(project, "Tiling started")
    open_decision(build, sessions, project)
    html = signed_in(app, jane).get(f"/p/{project.key}").get_data(as_text=True)
    assert html.index("Needs your decision") < html.index("Tiling started")
    assert 'value="approve"' in html and 'value="decline"' in html and 'value="ask"' in html


@pytest.mark.parametrize(("action", "state", "title"), [("approve", "approved", "Approved"), ("decline", "declined", "Declined")])
def test_one_tap_answers_and_goes_on_the_record(app, build, sessions, redis_url, action, state, title):
    project = build.project()
    jane = build.member(project, Member.CLIENT, name="Jane Holloway")
    entry = open_decision(build, sessions, project)
    browser = signed_in(app, jane)
    response = press(browser, project, entry, action=action)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"#entry-{entry.key}")
    with sessions() as db:
        decision = db.scalar(select(Decision))
        assert (decision.state, decision.answered_via, decision.answered_by_id) == (state, "web", jane.id)
        answer = db.scalar(select(Entry).where(Entry.kind == "answer"))
        assert answer.title == f"{title}: Splashback tile colour" and answer.author_id == jane.id
    [job] = Queue(MAIL, connection=Redis.from_url(redis_url)).jobs
    assert (job.func_name, job.args) == ("workers.decisions.tell_staff_job", (answer.id,))
    html = browser.get(f"/p/{project.key}").get_data(as_text=True)
    assert "Needs your decision" not in html and f"{title} by Jane Holloway (on the website)" in html


def test_asking_a_question_keeps_the_decision_open(app, build, sessions):
    project = build.project()
    jane = build.member(project, Member.CLIENT)
    entry = open_decision(build, sessions, project)
    press(signed_in(app, jane), project, entry, action="ask", question="Is Sage darker than the sample?")
    with sessions() as db:
        assert db.scalar(select(Decision)).state == Decision.OPEN
        question = db.scalar(select(Entry).where(Entry.kind == "message"))
        assert question.body == "Is Sage darker than the sample?" and question.reply_to_id == entry.id


def test_a_post_without_the_pages_token_does_nothing(app, build, sessions):
    project = build.project()
    jane = build.member(project, Member.CLIENT)
    entry = open_decision(build, sessions, project)
    assert signed_in(app, jane).post(f"/d/{entry.key}/answer", data={"action": "approve"}).status_code == 400
    with sessions() as db:
        assert db.scalar(select(Decision)).state == Decision.OPEN


def test_another_projects_client_cannot_answer(app, build, sessions):
    project, other = build.project(), build.project("Other")
    build.member(project, Member.CLIENT)
    bob = build.member(other, Member.CLIENT)
    entry = open_decision(build, sessions, project)
    open_decision(build, sessions, other, "Bob's own question")  # so Bob's page carries a form token
    browser = signed_in(app, bob)
    page = browser.get(f"/p/{other.key}").get_data(as_text=True)
    response = browser.post(f"/d/{entry.key}/answer", data={"csrf_token": csrf(page), "action": "approve"})
    assert response.status_code == 404
    with sessions() as db:
        assert db.scalar(select(Decision).where(Decision.entry_id == entry.id)).state == Decision.OPEN


def test_staff_close_a_decision_but_cannot_answer_for_the_client(app, build, sessions):
    project = build.project()
    build.member(project, Member.CLIENT)
    dan = build.member(project, Member.OWNER, name="Dan")
    entry = open_decision(build, sessions, project)
    browser = signed_in(app, dan)
    page = browser.get(f"/p/{project.key}").get_data(as_text=True)
    assert "Waiting for the client" in page and 'value="approve"' not in page
    assert browser.post(f"/d/{entry.key}/answer", data={"csrf_token": csrf(page), "action": "approve"}).status_code == 403
    assert browser.post(f"/d/{entry.key}/close", data={"csrf_token": csrf(page)}).status_code == 302
    with sessions() as db:
        assert db.scalar(select(Decision)).state == Decision.CLOSED


def test_a_client_cannot_close_a_decision(app, build, sessions):
    project = build.project()
    jane = build.member(project, Member.CLIENT)
    entry = open_decision(build, sessions, project)
    browser = signed_in(app, jane)
    page = browser.get(f"/p/{project.key}").get_data(as_text=True)
    assert browser.post(f"/d/{entry.key}/close", data={"csrf_token": csrf(page)}).status_code == 403
