"""One database session per request, committed once at the end, and only when the request succeeded."""

from __future__ import annotations

import pytest
from flask import abort
from sqlalchemy import select

from feed.models import Project
from portal import create_app
from portal.context import db


@pytest.fixture
def writing_app(settings):  # type: ignore[no-untyped-def]
    """The portal plus routes that write a project, then succeed, refuse or fail."""
    app = create_app(settings)

    def write(name: str, outcome: str) -> str:
        db().add(Project(name=name, address=name))
        db().flush()
        if outcome == "refuse":
            abort(404)
        if outcome == "fail":
            raise RuntimeError("boom")
        return "ok"

    app.add_url_rule("/test-write/<name>/<outcome>", view_func=write)
    return app


def _names(sessions) -> list[str]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        return list(session.scalars(select(Project.name)))


def test_a_successful_request_commits_its_work(writing_app, sessions) -> None:
    assert writing_app.test_client().get("/test-write/kept/ok").status_code == 200
    assert _names(sessions) == ["kept"]


def test_refused_and_failed_requests_keep_nothing(writing_app, sessions) -> None:
    client = writing_app.test_client()

    assert client.get("/test-write/refused/refuse").status_code == 404
    assert client.get("/test-write/failed/fail").status_code == 500
    assert _names(sessions) == []
