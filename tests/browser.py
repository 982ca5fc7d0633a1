"""Headless Chromium (Debian's package) driven by Playwright, for checking pages as a person sees them."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager

from tests.conftest import absent

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_path() -> str:
    """Where Chromium is; tests that need it skip only when it is really not installed."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        absent("Debian's chromium is not installed (.ci/run installs it)")
    return path


@contextmanager
def phone_page(width: int = 390, height: int = 844) -> Iterator[object]:
    """A fresh browser profile with a phone-sized page."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": width, "height": height}, device_scale_factor=2)
            yield context.new_page()
        finally:
            browser.close()
