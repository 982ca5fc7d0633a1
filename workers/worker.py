"""The worker process: one RQ worker for every queue, with RQ's scheduler for retries."""

from __future__ import annotations

import logging

from rq import Queue, Worker

from feed.jobs import DIGESTS, INGEST, MAIL, redis_connection
from feed.settings import Settings
from workers.ingest import requeue_pending
from workers.runtime import opened_runtime

log = logging.getLogger(__name__)

# RQ's own upkeep (re-taking the scheduler lock after a restart, cleaning jobs of dead workers) runs this
# often; its default of 10 minutes would leave retries waiting that long after a worker is killed.
MAINTENANCE_SECONDS = 60


def run_worker(settings: Settings, *, burst: bool = False) -> None:
    """Queue again what a crash left behind, then work the ingest and digest queues."""
    connection = redis_connection(settings.redis_url)
    # Closed before working: no pooled database connection may cross the work horse's fork.
    with opened_runtime(settings) as runtime:
        found = requeue_pending(runtime, connection)
    if found:
        log.info("queued %d waiting messages again", found)
    queues = [Queue(name, connection=connection) for name in (INGEST, MAIL, DIGESTS)]
    worker = Worker(queues, connection=connection, maintenance_interval=MAINTENANCE_SECONDS)
    worker.work(with_scheduler=True, burst=burst)
