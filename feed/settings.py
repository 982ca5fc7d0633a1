"""Configuration, read once from the environment and passed down."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from dotenv import load_dotenv

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = ROOT / "templates"
MIGRATIONS_DIR = ROOT / "migrations"

MEGABYTE = 1024 * 1024


def megabytes(size: int) -> str:
    """Say a size in MB the way a person reads it: 40, 2.5, 0.2."""
    value = size / MEGABYTE
    return f"{value:.0f}" if value >= 10 else f"{max(value, 0.1):.1f}".removesuffix(".0")


def _int(env: dict[str, str], name: str, default: int) -> int:
    value = env.get(name, "").strip()
    return int(value) if value else default


def _domains(value: str) -> tuple[str, ...]:
    return tuple(domain.strip().lower() for domain in value.split(",") if domain.strip())


@dataclass(frozen=True)
class Settings:
    """Everything a process needs to know about where things live and how to reach them."""

    data_dir: Path = Path("var")
    database_url: str = ""
    redis_url: str = ""
    media_dir: Path = Path("")
    spool_dir: Path = Path("")
    outbox_dir: Path = Path("")
    mail_domain: str = "updates.example.com"
    public_url: str = "http://127.0.0.1:5000"
    gateway_host: str = "127.0.0.1"
    gateway_port: int = 2525
    web_port: int = 5000
    outbound_smtp_url: str = ""
    max_message_bytes: int = 40 * MEGABYTE
    max_attachment_bytes: int = 25 * MEGABYTE
    # Authentication-Results are believed only from our own receiving server, named by this authserv-id.
    decision_reminder_hours: int = 72
    trusted_authserv_id: str = ""
    verify_dkim: bool = False
    dkim_signed_domains: tuple[str, ...] = ()
    secret_key: str = field(default="", repr=False)
    sender_name: str = "Project updates"
    default_timezone: str = "Europe/London"

    def __post_init__(self) -> None:
        # Paths left empty fall under data_dir, so one folder holds a local install. All become
        # absolute now: a relative one would mean something else to code that changes folder (Flask).
        data = Path(self.data_dir).resolve()

        def folder(value: Path, default: str) -> Path:
            return Path(value).resolve() if str(value) not in ("", ".") else data / default

        object.__setattr__(self, "data_dir", data)
        object.__setattr__(self, "database_url", self.database_url or f"sqlite:///{data / 'workfeed.db'}")
        object.__setattr__(self, "media_dir", folder(self.media_dir, "media"))
        object.__setattr__(self, "spool_dir", folder(self.spool_dir, "spool"))
        object.__setattr__(self, "outbox_dir", folder(self.outbox_dir, "outbox"))

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        """Build settings from the environment, after loading a `.env` file if there is one."""
        if environ is None:
            load_dotenv(Path.cwd() / ".env", override=False)
            environ = dict(os.environ)
        env = environ
        return cls(
            data_dir=Path(env.get("DATA_DIR") or "var"),
            database_url=env.get("DATABASE_URL", ""),
            redis_url=env.get("REDIS_URL", ""),
            media_dir=Path(env.get("MEDIA_DIR", "")),
            spool_dir=Path(env.get("SPOOL_DIR", "")),
            outbox_dir=Path(env.get("OUTBOX_DIR", "")),
            mail_domain=env.get("MAIL_DOMAIN") or cls.mail_domain,
            public_url=(env.get("PUBLIC_URL") or f"http://127.0.0.1:{_int(env, 'PORT', 5000)}").rstrip("/"),
            gateway_host=env.get("GATEWAY_HOST") or cls.gateway_host,
            gateway_port=_int(env, "GATEWAY_PORT", cls.gateway_port),
            web_port=_int(env, "PORT", cls.web_port),
            outbound_smtp_url=env.get("OUTBOUND_SMTP_URL", ""),
            max_message_bytes=_int(env, "MAX_MESSAGE_MB", 40) * MEGABYTE,
            max_attachment_bytes=_int(env, "MAX_ATTACHMENT_MB", 25) * MEGABYTE,
            decision_reminder_hours=_int(env, "DECISION_REMINDER_HOURS", 72),
            trusted_authserv_id=env.get("TRUSTED_AUTHSERV_ID", "").strip(),
            verify_dkim=env.get("VERIFY_DKIM", "").strip().lower() in ("1", "true", "yes", "on"),
            dkim_signed_domains=tuple(
                d.strip().lower() for d in env.get("DKIM_SIGNED_DOMAINS", "").split(",") if d.strip()
            ),
            secret_key=env.get("SECRET_KEY", ""),
            sender_name=env.get("SENDER_NAME") or cls.sender_name,
            default_timezone=env.get("DEFAULT_TIMEZONE") or cls.default_timezone,
        )

    def with_changes(self, **changes: object) -> Settings:
        """Return a copy with some values replaced (tests and the local runner use this)."""
        return replace(self, **changes)
