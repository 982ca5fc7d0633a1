"""Answering a decision on the timeline: Approve, Decline or Ask, each one tap and CSRF-checked; staff close."""

from __future__ import annotations

import logging

from flask import Blueprint, abort, redirect, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from feed.decisions import WEB, answer_decision, close_decision, record_message
from feed.jobs import enqueue_staff_alert
from feed.models import Decision, Entry, Member
from feed.replies import APPROVED, DECLINED
from portal.access import viewer_member, viewer_project_ids
from portal.context import db, queue_connection

bp = Blueprint("decisions", __name__)
log = logging.getLogger(__name__)
ANSWERS = {"approve": APPROVED, "decline": DECLINED}
QUESTION_LIMIT = 5000


def _decision(entry_key: str) -> tuple[Decision, Member]:
    """The decision on an entry the viewer may see, and who the viewer is there; 404 otherwise."""
    decision = db().scalar(
        select(Decision)
        .join(Decision.entry)
        .where(Entry.key == entry_key, Entry.hidden.is_(False), Entry.project_id.in_(viewer_project_ids()))
    )
    member = viewer_member(decision.entry.project) if decision is not None else None
    if decision is None or member is None:
        abort(404)
    return decision, member


def _back(decision: Decision) -> Response:
    return redirect(url_for("timeline.show", project_key=decision.entry.project.key) + f"#entry-{decision.entry.key}")


@bp.post("/d/<entry_key>/answer")
def answer(entry_key: str) -> Response:
    decision, member = _decision(entry_key)
    if member.role != Member.CLIENT:
        abort(403)
    action = request.form.get("action", "")
    if action in ANSWERS:
        recorded = answer_decision(db(), decision, member, ANSWERS[action], WEB)
    elif action == "ask":
        question = request.form.get("question", "").strip()[:QUESTION_LIMIT]
        if not question:
            return _back(decision)
        recorded = record_message(db(), member, question, about=decision.entry, via=WEB)
    else:
        abort(400)
    if recorded is not None:
        db().commit()  # on the record before staff are told
        try:
            enqueue_staff_alert(queue_connection(), recorded.id)
        except Exception:
            log.exception("could not queue the staff alert for entry %s", recorded.id)
    return _back(decision)


@bp.post("/d/<entry_key>/close")
def close(entry_key: str) -> Response:
    decision, member = _decision(entry_key)
    if not close_decision(decision, member):
        abort(403)
    return _back(decision)
