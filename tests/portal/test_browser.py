"""The timeline in a real phone-sized browser: the link lands, every photo loads, nothing is blocked."""

from __future__ import annotations

import threading

import pytest
from werkzeug.serving import make_server

from tests.browser import CHROMIUM_ARGS, chromium_path

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def live_url(app):  # type: ignore[no-untyped-def]
    """Serve the app over real HTTP on a free port for the length of the test."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


@pytest.fixture
def browser():  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def test_link_lands_on_a_phone_sized_timeline_with_every_photo_loaded(browser, live_url, build) -> None:
    project = build.project("Loft conversion")
    member = build.member(project)
    entry = build.entry(project, "Dormer framed", body="Roof is watertight.\nFelt goes on Monday.")
    photos = [build.photo(entry) for _ in range(4)]
    build.document(entry, "Structural calcs.pdf")
    page = browser.new_page(viewport=PHONE)
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("requestfailed", lambda request: problems.append(f"failed: {request.url}"))

    page.goto(f"{live_url}/c/{member.token}")
    page.wait_for_load_state("networkidle")
    for image in page.locator(".photos img").all():
        image.scroll_into_view_if_needed()
    page.wait_for_function("[...document.images].every(i => i.complete)")

    assert page.url == f"{live_url}/p/{project.key}"
    assert page.locator("h1").inner_text() == "Loft conversion"
    widths = page.eval_on_selector_all(".photos img", "images => images.map(i => i.naturalWidth)")
    assert len(widths) == len(photos) and all(width > 0 for width in widths)
    tops = [round(box["y"]) for box in (image.bounding_box() for image in page.locator(".photos img").all())]
    assert tops[0] == tops[1] == tops[2] < tops[3], "three thumbnails to a row on a phone"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert problems == []


def test_a_fresh_browser_gets_the_not_found_page(browser, live_url, build) -> None:
    project = build.project("Loft conversion")
    build.entry(project, "Dormer framed")
    page = browser.new_page(viewport=PHONE)

    response = page.goto(f"{live_url}/p/{project.key}")

    assert response is not None and response.status == 404
    assert "Dormer framed" not in page.content()
    assert page.locator("h1").inner_text() == "We couldn't find that page"
