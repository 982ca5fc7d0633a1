"""Media: renditions and documents go only to viewers of the entry, with types, ranges and safe names."""

from __future__ import annotations

import io
from urllib.parse import quote

import pytest
from PIL import Image


@pytest.fixture
def project(build):  # type: ignore[no-untyped-def]
    return build.project("Bathroom refit")


@pytest.fixture
def member_client(client, build, project):  # type: ignore[no-untyped-def]
    """The test client, let in as a client of the project."""
    client.get(f"/c/{build.member(project).token}")
    return client


def test_rendition_is_served_with_its_content_type_and_bytes(build, project, member_client) -> None:
    photo = build.photo(build.entry(project))

    thumb = member_client.get(f"/media/{photo.key}/thumb")
    full = member_client.get(f"/media/{photo.key}/full")

    assert thumb.status_code == full.status_code == 200
    assert thumb.mimetype == "image/jpeg"
    assert thumb.headers["X-Content-Type-Options"] == "nosniff"
    assert thumb.headers["Cache-Control"] == "private, max-age=86400"
    assert Image.open(io.BytesIO(thumb.get_data())).size == (12, 9)
    assert Image.open(io.BytesIO(full.get_data())).size == (40, 30)


def test_a_saved_photo_is_named_after_the_original(build, project, member_client) -> None:
    photo = build.photo(build.entry(project), filename="IMG_0042.HEIC")

    disposition = member_client.get(f"/media/{photo.key}/full").headers["Content-Disposition"]

    assert disposition == "inline; filename=IMG_0042-full.jpg"


def test_video_supports_range_requests(build, project, member_client) -> None:
    clip = bytes(range(256)) * 40
    video = build.video(build.entry(project), clip=clip)

    response = member_client.get(f"/media/{video.key}/video", headers={"Range": "bytes=100-199"})

    assert response.status_code == 206
    assert response.mimetype == "video/mp4"
    assert response.headers["Content-Range"] == f"bytes 100-199/{len(clip)}"
    assert response.get_data() == clip[100:200]
    assert response.headers["Accept-Ranges"] == "bytes"


def test_unchanged_media_answers_not_modified(build, project, member_client) -> None:
    photo = build.photo(build.entry(project))
    first = member_client.get(f"/media/{photo.key}/full")

    again = member_client.get(f"/media/{photo.key}/full", headers={"If-None-Match": first.headers["ETag"]})

    assert again.status_code == 304


def test_missing_rendition_and_unknown_names_are_not_found(build, project, member_client) -> None:
    photo = build.photo(build.entry(project))

    assert member_client.get(f"/media/{photo.key}/poster").status_code == 404
    assert member_client.get(f"/media/{photo.key}/original").status_code == 404
    assert member_client.get("/media/no-such-key/thumb").status_code == 404


def test_media_of_hidden_entries_is_not_served(build, project, member_client) -> None:
    entry = build.entry(project, "Pulled by the office", hidden=True)
    photo = build.photo(entry)
    document = build.document(entry, "internal.pdf")

    assert member_client.get(f"/media/{photo.key}/thumb").status_code == 404
    assert member_client.get(f"/media/{document.key}/download").status_code == 404


def test_document_downloads_under_its_non_ascii_name(build, project, member_client) -> None:
    data = b"%PDF-1.7 the revised quote"
    document = build.document(build.entry(project), "Devis révisé – cuisine.pdf", data)

    response = member_client.get(f"/media/{document.key}/download")

    assert response.status_code == 200
    assert response.get_data() == data
    assert response.mimetype == "application/pdf"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=UTF-8''{quote('Devis révisé – cuisine.pdf')}" in disposition


def test_awkward_filenames_cannot_break_the_header(build, project, member_client) -> None:
    document = build.document(build.entry(project), "../notes\r\nX-Evil: 1.pdf")

    response = member_client.get(f"/media/{document.key}/download")

    assert response.status_code == 200
    assert "X-Evil" not in response.headers
    assert "\n" not in response.headers["Content-Disposition"]
    assert "/" not in response.headers["Content-Disposition"].split("filename=")[1]


def test_photo_and_video_originals_are_never_downloadable(build, project, member_client) -> None:
    entry = build.entry(project)
    photo = build.photo(entry)
    video = build.video(entry)

    assert member_client.get(f"/media/{photo.key}/download").status_code == 404
    assert member_client.get(f"/media/{video.key}/download").status_code == 404


def test_media_missing_from_the_store_is_not_found(build, project, store, member_client) -> None:
    photo = build.photo(build.entry(project))
    for path in store.root.rglob("*"):
        if path.is_file():
            path.unlink()

    assert member_client.get(f"/media/{photo.key}/thumb").status_code == 404
