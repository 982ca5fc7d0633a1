"""Shared fixtures: settings over temporary folders, a freshly migrated database, real Redis."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from feed.db import make_engine, make_sessionmaker, migrate, normalise_url
from feed.mail import OutboxMailer
from feed.settings import Settings
from feed.spool import Spool
from feed.storage import LocalFileStore
from workers.runtime import Runtime
from workfeed.localredis import start_local_redis

HERE = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("WORKFEED_SHARED_DIR", HERE.parent.parent / "shared"))
SAMPLES = SHARED / "samples"
CORPUS = SHARED / "corpus"


def _with_search_path(url: str, schema: str) -> str:
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}"


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database: SQLite in a temporary folder, or a fresh schema on TEST_DATABASE_URL."""
    server = os.environ.get("TEST_DATABASE_URL")
    if not server:
        url = f"sqlite:///{tmp_path / 'workfeed.db'}"
        migrate(url)
        yield url
        return
    schema = "t_" + secrets.token_hex(6)
    admin = create_engine(normalise_url(server), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = _with_search_path(normalise_url(server), schema)
    try:
        migrate(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A private, empty Redis server for this test (a real redis-server, on a unix socket)."""
    process, url = start_local_redis(tmp_path / "redis")
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        redis_url=os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15"),
        mail_domain="updates.example.com",
        public_url="http://127.0.0.1:5000",
        secret_key="test-secret",
    )


@pytest.fixture
def engine(settings: Settings):
    engine = make_engine(settings.database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine):
    """The session factory; tests open a session per unit of work, as the app does."""
    return make_sessionmaker(engine)


@pytest.fixture
def store(settings: Settings) -> LocalFileStore:
    return LocalFileStore(settings.media_dir)


@pytest.fixture
def runtime(settings: Settings, engine, sessions, store) -> Runtime:
    """What a job gets, over the test database; mail goes to the outbox folder unless a test swaps the mailer."""
    return Runtime(
        settings=settings,
        engine=engine,
        sessions=sessions,
        store=store,
        spool=Spool(settings.spool_dir),
        mailer=OutboxMailer(settings.outbox_dir),
    )


def absent(reason: str) -> None:
    """Skip a test whose input or tool is really not here; in CI (CI=true) that is a failure, never a skip."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} — CI must have it")
    pytest.skip(reason)


def sample(name: str) -> bytes:
    """Bytes of a shared sample email; tests using it skip when ../shared is not beside the checkout."""
    path = SAMPLES / name
    if not path.is_file():
        absent(f"shared samples not present at {SAMPLES}")
    return path.read_bytes()


@pytest.fixture
def mail_sink():
    """A started SMTP sink on localhost that collects what it receives (see tests/mailsink.py)."""
    from tests.mailsink import MailSink

    sink = MailSink().start()
    yield sink
    sink.stop()
