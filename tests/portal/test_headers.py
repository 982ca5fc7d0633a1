"""Every response keeps tokens out of Referer, refuses framing and limits what a page may load."""

from __future__ import annotations

import re

import pytest


@pytest.fixture
def urls(client, build):  # type: ignore[no-untyped-def]
    """A link redirect, a timeline, a photo, a document, a 404 and the home page, as a client sees them."""
    project = build.project()
    member = build.member(project)
    entry = build.entry(project, "Update")
    photo = build.photo(entry)
    document = build.document(entry, "plan.pdf")
    client.get(f"/c/{member.token}")
    return [
        f"/c/{member.token}",
        f"/p/{project.key}",
        f"/media/{photo.key}/thumb",
        f"/media/{document.key}/download",
        "/p/nope",
        "/",
        "/static/portal.css",
    ]


def test_every_response_carries_the_security_headers(client, urls) -> None:
    for url in urls:
        headers = client.get(url).headers
        assert headers["Referrer-Policy"] == "no-referrer", url
        assert headers["X-Frame-Options"] == "DENY", url
        assert headers["X-Content-Type-Options"] == "nosniff", url
        assert "default-src" in headers["Content-Security-Policy"], url


def test_pages_allow_only_their_own_stylesheet_and_no_script(client, urls) -> None:
    policy = client.get(urls[1]).headers["Content-Security-Policy"]

    assert "default-src 'self'" in policy
    assert "script-src 'none'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy


def test_pages_load_nothing_from_elsewhere(client, urls) -> None:
    html = client.get(urls[1]).get_data(as_text=True)

    urls = re.findall(r'(?:src|href|poster)="([^"]*)"', html)
    assert urls
    assert all(url.startswith("/") and not url.startswith("//") for url in urls)
    assert "<script" not in html
    assert 'name="viewport"' in html


def test_private_pages_are_not_cached_by_shared_caches(client, urls) -> None:
    assert client.get(urls[1]).headers["Cache-Control"] == "private, no-cache"


def test_served_files_cannot_run_anything(client, urls) -> None:
    policy = client.get(urls[3]).headers["Content-Security-Policy"]

    assert "sandbox" in policy
    assert "default-src 'none'" in policy
