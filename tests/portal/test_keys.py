"""The signing key: configured, or made once and kept so restarts keep sessions valid."""

from __future__ import annotations

import stat

from feed.keys import secret_key
from portal import create_app


def test_configured_key_is_used_as_is(settings) -> None:
    assert secret_key(settings.with_changes(secret_key="from-env")) == "from-env"
    assert not (settings.data_dir / "secret.key").exists()


def test_key_is_made_once_private_and_kept(settings) -> None:
    unset = settings.with_changes(secret_key="")

    first = secret_key(unset)
    second = secret_key(unset)

    path = settings.data_dir / "secret.key"
    assert first == second
    assert len(first) >= 40
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in settings.data_dir.iterdir()] == ["secret.key"]


def test_sessions_survive_a_restart_without_a_configured_key(settings, build) -> None:
    unset = settings.with_changes(secret_key="")
    project = build.project()
    member = build.member(project)
    before = create_app(unset).test_client()
    before.get(f"/c/{member.token}")

    after = create_app(unset).test_client()
    after.set_cookie("workfeed", before.get_cookie("workfeed").value)

    assert after.get(f"/p/{project.key}").status_code == 200
