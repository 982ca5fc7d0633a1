"""Settings from the environment."""

from __future__ import annotations

from feed.settings import MEGABYTE, Settings


def test_defaults_live_under_an_absolute_data_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = Settings.from_env({"DATA_DIR": "var"})
    assert settings.data_dir == tmp_path / "var"
    assert settings.media_dir == tmp_path / "var" / "media"
    assert settings.spool_dir == tmp_path / "var" / "spool"
    assert settings.outbox_dir == tmp_path / "var" / "outbox"
    assert settings.database_url == f"sqlite:///{tmp_path / 'var' / 'workfeed.db'}"


def test_relative_folders_are_made_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = Settings.from_env({"MEDIA_DIR": "files/media", "SPOOL_DIR": "/srv/spool"})
    assert settings.media_dir == tmp_path / "files" / "media"
    assert str(settings.spool_dir) == "/srv/spool"


def test_environment_names_are_the_standard_ones():
    settings = Settings.from_env(
        {
            "DATABASE_URL": "postgresql://db/workfeed",
            "REDIS_URL": "redis://cache:6379/0",
            "MAIL_DOMAIN": "updates.buildco.example",
            "PUBLIC_URL": "https://updates.buildco.example/",
            "GATEWAY_HOST": "0.0.0.0",
            "GATEWAY_PORT": "25",
            "PORT": "8000",
            "OUTBOUND_SMTP_URL": "smtp://relay:25",
            "MAX_MESSAGE_MB": "25",
        }
    )
    assert settings.database_url == "postgresql://db/workfeed"
    assert settings.redis_url == "redis://cache:6379/0"
    assert settings.mail_domain == "updates.buildco.example"
    assert settings.public_url == "https://updates.buildco.example"
    assert (settings.gateway_host, settings.gateway_port, settings.web_port) == ("0.0.0.0", 25, 8000)
    assert settings.outbound_smtp_url == "smtp://relay:25"
    assert settings.max_message_bytes == 25 * MEGABYTE


def test_public_url_follows_the_web_port_when_unset():
    assert Settings.from_env({"PORT": "8080"}).public_url == "http://127.0.0.1:8080"
