"""Personal links open a session; nobody sees a project, its media or its files without one for it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from feed.models import Member
from portal import create_app


def test_link_opens_the_timeline_and_remembers_the_browser(client, build) -> None:
    project = build.project("Kitchen extension")
    client_member = build.member(project)
    build.entry(project, "Walls are up")

    response = client.get(f"/c/{client_member.token}")

    assert response.status_code == 302
    assert response.headers["Location"] == f"/p/{project.key}"
    with client.session_transaction() as session:
        assert session["members"] == [client_member.id]
    page = client.get(f"/p/{project.key}")
    assert page.status_code == 200
    assert "Walls are up" in page.get_data(as_text=True)


def test_session_cookie_is_httponly_lax_and_lasts_about_ninety_days(client, build) -> None:
    member = build.member(build.project())

    cookie = client.get(f"/c/{member.token}").headers["Set-Cookie"]

    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie
    expires = parsedate_to_datetime(re.search(r"Expires=([^;]+)", cookie).group(1))
    assert timedelta(days=89) < expires - datetime.now(UTC) < timedelta(days=91)


def test_session_cookie_is_secure_when_the_public_url_is_https(settings, build) -> None:
    member = build.member(build.project())
    app = create_app(settings.with_changes(public_url="https://updates.example.com"))

    cookie = app.test_client().get(f"/c/{member.token}").headers["Set-Cookie"]

    assert "Secure" in cookie


def test_staff_links_open_their_project_too(client, build) -> None:
    project = build.project()
    staff = build.member(project, role=Member.STAFF, name="Sam Site")

    assert client.get(f"/c/{staff.token}").status_code == 302
    assert client.get(f"/p/{project.key}").status_code == 200


def test_unknown_token_is_not_found_and_opens_nothing(client, build) -> None:
    project = build.project()
    build.member(project)

    response = client.get("/c/not-a-real-token")

    assert response.status_code == 404
    assert "Set-Cookie" not in response.headers
    assert client.get(f"/p/{project.key}").status_code == 404


def _project_with_media(build):  # type: ignore[no-untyped-def]
    project = build.project("Private house")
    entry = build.entry(project, "Secret plans")
    return project, build.photo(entry), build.document(entry, "plans.pdf")


def test_client_of_another_project_sees_none_of_it(client, build) -> None:
    project_a, photo, document = _project_with_media(build)
    outsider = build.member(build.project("Someone else's loft"))
    client.get(f"/c/{outsider.token}")

    assert client.get(f"/p/{project_a.key}").status_code == 404
    assert client.get(f"/media/{photo.key}/thumb").status_code == 404
    assert client.get(f"/media/{photo.key}/full").status_code == 404
    assert client.get(f"/media/{document.key}/download").status_code == 404


def test_a_fresh_browser_sees_none_of_it(client, build) -> None:
    project, photo, document = _project_with_media(build)
    build.member(project)

    assert client.get(f"/p/{project.key}").status_code == 404
    assert client.get(f"/media/{photo.key}/thumb").status_code == 404
    assert client.get(f"/media/{document.key}/download").status_code == 404


def test_same_member_sees_its_media(client, build) -> None:
    project, photo, document = _project_with_media(build)
    client.get(f"/c/{build.member(project).token}")

    assert client.get(f"/media/{photo.key}/thumb").status_code == 200
    assert client.get(f"/media/{document.key}/download").status_code == 200


def test_refused_and_missing_pages_look_the_same(client, build) -> None:
    project = build.project()
    client.get(f"/c/{build.member(build.project()).token}")

    refused = client.get(f"/p/{project.key}")
    missing = client.get("/p/no-such-project")

    assert refused.status_code == missing.status_code == 404
    assert refused.get_data() == missing.get_data()
    assert "couldn't find that page" in refused.get_data(as_text=True)


def test_cookie_signed_with_another_key_lets_nobody_in(client, settings, build) -> None:
    project = build.project()
    member = build.member(project)
    # The member id inside is right; only the signature is wrong.
    stranger = create_app(settings.with_changes(secret_key="another-key")).test_client()
    stranger.get(f"/c/{member.token}")
    client.set_cookie("workfeed", stranger.get_cookie("workfeed").value)

    assert client.get(f"/p/{project.key}").status_code == 404


def test_one_browser_can_hold_several_projects(client, build) -> None:
    kitchen, loft = build.project("Kitchen"), build.project("Loft")
    client.get(f"/c/{build.member(kitchen).token}")
    client.get(f"/c/{build.member(loft).token}")

    home = client.get("/").get_data(as_text=True)

    assert client.get(f"/p/{kitchen.key}").status_code == 200
    assert client.get(f"/p/{loft.key}").status_code == 200
    assert f'href="/p/{kitchen.key}"' in home
    assert f'href="/p/{loft.key}"' in home


def test_home_without_a_session_points_to_the_email(client, build) -> None:
    project = build.project("Kitchen")
    build.member(project)

    page = client.get("/")

    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "open the link in one of the update emails" in text
    assert project.key not in text


def test_unknown_paths_get_the_friendly_not_found_page(client) -> None:
    response = client.get("/wp-admin")

    assert response.status_code == 404
    assert "couldn't find that page" in response.get_data(as_text=True)
