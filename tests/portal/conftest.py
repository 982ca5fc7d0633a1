"""Portal fixtures: the app over the test database, a browser-like client, and a way to build projects."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import count

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image

from feed.db import transaction
from feed.models import Attachment, Entry, Member, Project, Rendition
from portal import create_app

_numbers = count(1)
# Served, never decoded, so any bytes do; the header only makes it look right in a hex dump.
FAKE_MP4 = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8


def jpeg(width: int, height: int, colour: tuple[int, int, int] = (120, 140, 160)) -> bytes:
    """Return a real JPEG of the given size."""
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


@dataclass(frozen=True)
class Made:
    """Keys of something built for a test, usable after its session closed."""

    id: int
    key: str
    token: str = ""


class Builder:
    """Write projects, members, entries and media straight into the database and the store."""

    def __init__(self, sessions, store) -> None:  # type: ignore[no-untyped-def]
        self.sessions = sessions
        self.store = store

    def project(self, name: str = "Kitchen extension", timezone: str = "Europe/London") -> Made:
        with transaction(self.sessions) as session:
            project = Project(name=name, address=f"project-{next(_numbers)}", timezone=timezone)
            session.add(project)
            session.flush()
            return Made(project.id, project.key)

    def member(self, project: Made, role: str = Member.CLIENT, name: str = "Alex Client") -> Made:
        with transaction(self.sessions) as session:
            email = f"person{next(_numbers)}@example.org"
            member = Member(project_id=project.id, email=email, name=name, role=role)
            session.add(member)
            session.flush()
            return Made(member.id, str(member.id), member.access_token)

    def entry(
        self,
        project: Made,
        title: str = "Update",
        *,
        at: datetime | None = None,
        body: str = "",
        kind: str = "update",
        hidden: bool = False,
        author: Made | None = None,
    ) -> Made:
        with transaction(self.sessions) as session:
            entry = Entry(
                project_id=project.id,
                title=title,
                body=body,
                kind=kind,
                hidden=hidden,
                author_id=author.id if author else None,
                occurred_at=at or datetime.now(UTC),
            )
            session.add(entry)
            session.flush()
            return Made(entry.id, entry.key)

    def attachment(
        self,
        entry: Made,
        kind: str,
        filename: str,
        original: bytes,
        content_type: str,
        renditions: dict[str, tuple[bytes, str, int | None, int | None]],
    ) -> Made:
        """Store an original and its renditions ({name: (bytes, content type, width, height)})."""
        with transaction(self.sessions) as session:
            attachment = Attachment(
                entry_id=entry.id,
                kind=kind,
                filename=filename,
                content_type=content_type,
                size=len(original),
                sha256=self.store.put(original),
            )
            for name, (data, rendition_type, width, height) in renditions.items():
                attachment.renditions.append(
                    Rendition(
                        name=name,
                        sha256=self.store.put(data),
                        content_type=rendition_type,
                        size=len(data),
                        width=width,
                        height=height,
                    )
                )
            session.add(attachment)
            session.flush()
            return Made(attachment.id, attachment.key)

    def photo(self, entry: Made, filename: str = "IMG_0001.jpg") -> Made:
        original = jpeg(64, 48, (next(_numbers) % 255, 90, 60))
        return self.attachment(
            entry,
            Attachment.IMAGE,
            filename,
            original,
            "image/jpeg",
            {
                "full": (jpeg(40, 30), "image/jpeg", 40, 30),
                "thumb": (jpeg(12, 9, (10, 20, 30)), "image/jpeg", 12, 9),
            },
        )

    def video(self, entry: Made, clip: bytes = FAKE_MP4) -> Made:
        return self.attachment(
            entry,
            Attachment.VIDEO,
            "clip.mov",
            b"original mov bytes",
            "video/quicktime",
            {
                "video": (clip, "video/mp4", 640, 360),
                "poster": (jpeg(32, 18), "image/jpeg", 32, 18),
            },
        )

    def document(self, entry: Made, filename: str, data: bytes = b"%PDF-1.4 quote") -> Made:
        return self.attachment(entry, Attachment.DOCUMENT, filename, data, "application/pdf", {})


@pytest.fixture
def build(sessions, store) -> Builder:  # type: ignore[no-untyped-def]
    return Builder(sessions, store)


@pytest.fixture
def app(settings) -> Flask:  # type: ignore[no-untyped-def]
    app = create_app(settings)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
