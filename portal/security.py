"""How the portal protects its pages: cookie flags and the headers every response carries."""

from __future__ import annotations

from datetime import timedelta

from flask import Response

from feed.settings import Settings

SESSION_DAYS = 90

# Styles come from our own CSS file and there is no script at all, so nothing inline is allowed.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
# Served files get no powers even if opened directly in a tab.
FILE_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; sandbox"


def session_config(settings: Settings) -> dict[str, object]:
    """Return Flask settings for the signed session cookie that remembers who opened a link."""
    return {
        "SESSION_COOKIE_NAME": "workfeed",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": settings.public_url.startswith("https://"),
        "PERMANENT_SESSION_LIFETIME": timedelta(days=SESSION_DAYS),
        # Re-sent only when a link is opened: media responses stay free of Set-Cookie,
        # and each digest link renews the 90 days anyway.
        "SESSION_REFRESH_EACH_REQUEST": False,
    }


def add_security_headers(response: Response) -> Response:
    """Keep tokens out of Referer, pages out of frames and search engines, and types unsniffed."""
    headers = response.headers
    headers["Referrer-Policy"] = "no-referrer"
    headers["X-Frame-Options"] = "DENY"
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Robots-Tag"] = "noindex, nofollow"
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("Cache-Control", "private, no-cache")
    return response
