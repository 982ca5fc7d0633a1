"""What the client sees about the whole project: the stage bar, key dates, variations, Done and Next."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from feed.db import transaction
from feed.models import Decision, KeyDate, Member, Project


def signed_in(app, member):
    browser = app.test_client()
    browser.get(f"/c/{member.token}")
    return browser


def test_the_stage_bar_marks_done_current_and_to_come(app, build, sessions):
    project = build.project()
    jane = build.member(project, Member.CLIENT)
    with transaction(sessions) as db:
        found = db.get(Project, project.id)
        found.stages = ("Design", "Demolition", "Installation", "Handover")
        found.current_stage = "Installation"
    build.entry(project, "Handover", kind="milestone")
    html = signed_in(app, jane).get(f"/p/{project.key}").get_data(as_text=True)
    assert '<li class="stage stage-done">\n        <span class="stage-name">Design</span>' in html
    assert 'class="stage stage-current" aria-current="step"' in html and "stage-todo" in html
    assert html.index("Demolition") < html.index("Installation") < html.index('stage-name">Handover')
    assert "★ Handover" in html


def test_key_dates_show_the_new_day_and_the_old_one(app, build, sessions):
    project = build.project()
    jane = build.member(project, Member.CLIENT)
    with transaction(sessions) as db:
        db.add(KeyDate(project_id=project.id, name="Worktop delivery", day=date(2026, 12, 19),
                       previous_day=date(2026, 12, 12)))
    html = signed_in(app, jane).get(f"/p/{project.key}").get_data(as_text=True)
    assert "Worktop delivery" in html and "Sat 19 Dec 2026" in html and "was 12 Dec" in html


def test_approved_variations_add_up_and_pending_ones_are_listed(app, build, sessions):
    project = build.project()
    jane = build.member(project, Member.CLIENT)
    socket = build.entry(project, "Extra socket (+£180)", kind="variation")
    credit = build.entry(project, "Omit pelmet (-£40)", kind="variation")
    light = build.entry(project, "Plinth lights (+£95)", kind="variation")
    with transaction(sessions) as db:
        db.add(Decision(entry_id=socket.id, state="approved", cost=Decimal(180), currency="GBP", days=2))
        db.add(Decision(entry_id=credit.id, state="approved", cost=Decimal(-40), currency="GBP"))
        db.add(Decision(entry_id=light.id, cost=Decimal(95), currency="GBP"))
    html = signed_in(app, jane).get(f"/p/{project.key}").get_data(as_text=True)
    assert "Approved so far: <strong>+£140.00</strong>, +2 days" in html
    assert f'Waiting for your approval: <a href="#entry-{light.key}">Plinth lights (+£95)</a>' in html


def test_done_and_next_lines_are_shown_as_such(app, build):
    project = build.project()
    jane = build.member(project, Member.CLIENT)
    build.entry(project, "Friday", body="Good week.\nDone: base units fitted\nNext: worktop templating")
    html = signed_in(app, jane).get(f"/p/{project.key}").get_data(as_text=True)
    assert "<h4>Done</h4><ul><li>base units fitted</li></ul>" in html
    assert "<h4>Next</h4><ul><li>worktop templating</li></ul>" in html
    assert "Done: base units" not in html
