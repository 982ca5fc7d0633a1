"""What a request reaches for: the app's settings, file store, and its own database session."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, Response, current_app, g
from redis import Redis
from sqlalchemy.orm import Session, sessionmaker

from feed.settings import Settings
from feed.storage import FileStore

EXTENSION = "workfeed"


@dataclass(frozen=True)
class Services:
    """The long-lived things one portal process shares between requests."""

    settings: Settings
    sessions: sessionmaker[Session]
    store: FileStore


def install(app: Flask, services: Services) -> None:
    """Keep `services` on the app and open/commit/close one database session per request."""
    app.extensions[EXTENSION] = services
    app.after_request(_commit_db)
    app.teardown_request(_close_db)


def services() -> Services:
    return current_app.extensions[EXTENSION]


def settings() -> Settings:
    return services().settings


def store() -> FileStore:
    return services().store


def queue_connection() -> Redis:
    """The Redis connection for queueing jobs, made on first use and shared by the process."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    connection = app.extensions.get("workfeed.redis")
    if connection is None:
        connection = app.extensions["workfeed.redis"] = Redis.from_url(settings().redis_url)
    return connection


def db() -> Session:
    """Return this request's database session, opening it on first use."""
    if "db" not in g:
        g.db = services().sessions()
    return g.db


def _commit_db(response: Response) -> Response:
    # Committing here rather than at teardown lets a failed commit become a 500
    # instead of a success page for work that was lost; error responses keep nothing.
    session: Session | None = g.get("db")
    if session is not None and response.status_code < 400:
        session.commit()
    return response


def _close_db(_exc: BaseException | None) -> None:
    session: Session | None = g.pop("db", None)
    if session is not None:
        session.close()
