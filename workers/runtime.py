"""What a job needs, built once per process from the environment."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy.orm import Session, sessionmaker

from feed.db import sessionmaker_for
from feed.settings import Settings
from feed.spool import Spool
from feed.storage import LocalFileStore


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    sessions: sessionmaker[Session]
    store: LocalFileStore
    spool: Spool

    @classmethod
    def build(cls, settings: Settings) -> Runtime:
        return cls(
            settings=settings,
            sessions=sessionmaker_for(settings),
            store=LocalFileStore(settings.media_dir),
            spool=Spool(settings.spool_dir),
        )


@lru_cache(maxsize=1)
def current_runtime() -> Runtime:
    """The runtime of this job process (a work horse builds its own after the fork)."""
    return Runtime.build(Settings.from_env())
