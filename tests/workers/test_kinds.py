"""Structured updates change the project: the current stage, key dates, a variation's figures."""

from __future__ import annotations

from decimal import Decimal
from email.message import EmailMessage
from email.utils import format_datetime

from sqlalchemy import select

from feed.models import Decision, KeyDate, Project, utcnow
from tests.workers.test_ingest import ADDRESS, STAFF, accept, outbox, text_of
from workers.ingest import ingest


def post(runtime, project_id, subject: str, body: str = "See photos.") -> None:
    mail = EmailMessage()
    mail["From"] = f"Dan Mercer <{STAFF}>"
    mail["To"] = ADDRESS
    mail["Subject"] = subject
    mail["Date"] = format_datetime(utcnow())
    mail["Message-ID"] = f"<{abs(hash(subject))}@buildco.example>"
    mail.set_content(body)
    ingest(runtime, accept(runtime, mail.as_bytes(), project_id))


def project(runtime, project_id) -> Project:
    with runtime.sessions() as db:
        found = db.get(Project, project_id)
        found.key_dates  # noqa: B018 - load before the session closes
        return found


def test_a_new_project_starts_with_its_trades_stages(runtime, project_id):
    assert project(runtime, project_id).stages[:3] == ("Survey", "Design", "Demolition")
    assert project(runtime, project_id).current_stage is None


def test_a_stage_email_moves_the_project_forgiving_spelling(runtime, project_id):
    post(runtime, project_id, "[Stage] Instalation – Küche")
    assert project(runtime, project_id).current_stage == "Installation"
    [receipt] = outbox(runtime)
    assert "Note:" not in text_of(receipt)


def test_an_unknown_stage_is_added_after_the_current_one_and_the_sender_told(runtime, project_id):
    post(runtime, project_id, "[Stage] Plastering")
    post(runtime, project_id, "[Stage] Tiling")
    found = project(runtime, project_id)
    assert found.current_stage == "Tiling"
    assert found.stages[found.stages.index("Plastering") + 1] == "Tiling"
    last = outbox(runtime)[-1]
    assert "Note: “Tiling” was not one of the project's stages, so it was added after “Plastering”." in text_of(last)


def test_a_variation_records_its_cost_and_time(runtime, project_id):
    post(runtime, project_id, "[Variation] Extra socket on island (+£180)", "Adds +2 days to the programme.")
    with runtime.sessions() as db:
        decision = db.scalar(select(Decision))
        assert (decision.cost, decision.currency, decision.days) == (Decimal("180.00"), "GBP", 2)


def test_a_delay_moves_the_key_date_and_remembers_the_old_one(runtime, project_id):
    today = utcnow().date()
    post(runtime, project_id, "[Delay] Worktop delivery moved to 12 Dec", "Supplier's machine is down.")
    post(runtime, project_id, "[Delay] Worktop delivery now 19 Dec", "Still waiting on the supplier.")
    [key_date] = project(runtime, project_id).key_dates
    assert key_date.name == "Worktop delivery"
    assert (key_date.day.month, key_date.day.day) == (12, 19) and key_date.day >= today
    assert (key_date.previous_day.month, key_date.previous_day.day) == (12, 12)


def test_a_delay_without_a_date_is_posted_and_the_sender_told(runtime, project_id):
    post(runtime, project_id, "[Delay] Worktop delivery", "Supplier will confirm.")
    with runtime.sessions() as db:
        assert db.scalars(select(KeyDate)).all() == []
    assert "No new date was found in “Worktop delivery”" in text_of(outbox(runtime)[-1])
    assert outbox(runtime)[-1]["Subject"] == "Posted: Worktop delivery"
