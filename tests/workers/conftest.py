"""Worker fixtures: a project whose owner is the staff sender of the test emails."""

from __future__ import annotations

import pytest

from feed.db import transaction
from feed.projects import Person, create_project

STAFF = "dan.mercer@buildco.example"


@pytest.fixture
def project_id(sessions) -> int:
    with transaction(sessions) as db:
        project = create_project(
            db, "Holloway Kitchen", owner=Person(STAFF), clients=[Person("jane@mailbox.example", "Jane")]
        )
        return project.id
