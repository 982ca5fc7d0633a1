"""What a job or command needs besides ids: settings, database sessions, media, spool, mailer."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from feed.db import make_engine, make_sessionmaker
from feed.mail import Mailer, make_mailer
from feed.settings import Settings
from feed.spool import Spool
from feed.storage import FileStore, LocalFileStore


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    store: FileStore
    spool: Spool
    mailer: Mailer

    @classmethod
    def build(cls, settings: Settings) -> Runtime:
        engine = make_engine(settings.database_url)
        return cls(
            settings=settings,
            engine=engine,
            sessions=make_sessionmaker(engine),
            store=LocalFileStore(settings.media_dir),
            spool=Spool(settings.spool_dir),
            mailer=make_mailer(settings),
        )


@contextmanager
def opened_runtime(settings: Settings | None = None) -> Iterator[Runtime]:
    """Build a runtime for one job or command and close its database connections afterwards."""
    runtime = Runtime.build(settings or Settings.from_env())
    try:
        yield runtime
    finally:
        runtime.engine.dispose()
