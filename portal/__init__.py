"""The client portal: personal links, private timelines and their media."""

from __future__ import annotations

from flask import Flask
from flask_wtf.csrf import CSRFProtect

from feed.db import sessionmaker_for
from feed.keys import secret_key
from feed.settings import TEMPLATES_DIR, Settings
from feed.storage import LocalFileStore
from portal import access, decisions, media, timeline, undo
from portal.context import Services, install
from portal.security import add_security_headers, session_config


def create_app(settings: Settings | None = None) -> Flask:
    """Build the portal for `settings`, or for the environment's when none are given."""
    settings = settings or Settings.from_env()
    app = Flask(__name__, template_folder=str(TEMPLATES_DIR))
    app.config.update(SECRET_KEY=secret_key(settings), **session_config(settings))
    install(app, Services(settings, sessionmaker_for(settings), LocalFileStore(settings.media_dir)))
    app.after_request(add_security_headers)
    # Every form posts with a token from the session: a link or another site cannot act for a person.
    CSRFProtect(app)
    for blueprint in (access.bp, timeline.bp, media.bp, undo.bp, decisions.bp):
        app.register_blueprint(blueprint)
    return app
