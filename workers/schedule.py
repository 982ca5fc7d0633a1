"""The schedule: RQ's cron scheduler enqueues the periodic jobs onto their queues."""

from __future__ import annotations

import logging

from redis import Redis
from rq.cron import CronScheduler

from feed.jobs import DIGESTS, INGEST, MAIL, redis_connection
from feed.settings import Settings
from workers.decisions import remind_open_decisions
from workers.digests import send_due_digests
from workers.ingest import requeue_lost

DIGEST_CHECK_SECONDS = 300
LOST_MESSAGE_CHECK_SECONDS = 60
REMINDER_CHECK_SECONDS = 3600
# Sending a week's digests can outlast RQ's default 180 s; an overlapping run is harmless (idempotent).
DIGEST_JOB_TIMEOUT = 1800
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def build_cron(connection: Redis) -> CronScheduler:
    """Register every periodic job on a cron scheduler bound to `connection`."""
    cron = CronScheduler(connection=connection)
    cron.register(send_due_digests, queue_name=DIGESTS, interval=DIGEST_CHECK_SECONDS, job_timeout=DIGEST_JOB_TIMEOUT)
    cron.register(requeue_lost, queue_name=INGEST, interval=LOST_MESSAGE_CHECK_SECONDS)
    cron.register(remind_open_decisions, queue_name=MAIL, interval=REMINDER_CHECK_SECONDS)
    return cron


def run_scheduler(settings: Settings) -> None:
    """Run the cron scheduler until it is stopped (blocks)."""
    logging.basicConfig(level=logging.INFO)
    build_cron(redis_connection(settings.redis_url or DEFAULT_REDIS_URL)).start()
